"""/api/v1/event-store/<topic>/query: one page of a topic's events kept in the event store, masked and audited."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.event_store_query import EventStoreQuerySerializer, EventStoreResultSerializer
from onboarding.errors import NotFound, ValidationError
from onboarding.event_store_query.service import topic_query
from onboarding.models import AuditEvent, ResourceStatus

VIA = AuditEvent.Via.API
CLUSTER = OpenApiParameter("cluster", str, OpenApiParameter.QUERY, required=False,
                           description="The cluster's name, when the topic's name exists on several.")


def topic_named(user, ref: str, cluster: str | None):
    """The topic ``ref`` names (its id, or its name) among those the user sees; a name on several clusters needs
    ``cluster``."""
    if ref.isdigit():
        return selectors.topic_for(user, int(ref))
    topics = selectors.topics_visible_to(user).filter(name=ref).exclude(status=ResourceStatus.DELETED)
    if cluster:
        topics = topics.filter(cluster__name=cluster)
    found = list(topics[:5])
    if not found:
        raise NotFound("No such topic.")
    if len(found) > 1:
        raise ValidationError({"cluster": [f"{ref} exists on {', '.join(t.cluster.name for t in found)}: name the "
                                           "cluster with ?cluster=."]})
    return found[0]


class EventStoreQueryView(APIView):
    """A query is a read sent as a POST (its filter is a JSON document): read-scope tokens may send it too."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Query a topic's events in the event store", parameters=[CLUSTER],
        request=EventStoreQuerySerializer,
        description="For the topic's team, operators and teams with an approved subscription. Results are masked "
                    "as peek masks them; every query is recorded in the audit log (event_store.query). A query "
                    "running longer than EVENT_STORE_QUERY_MAX_TIME_MS answers 400 saying how to narrow it.",
        responses={200: EventStoreResultSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN,
                   404: OpenApiResponse(schema.DETAIL, description="No such topic, or it is private to another "
                                                                   "team, or it is not kept in the event store."),
                   503: OpenApiResponse(schema.DETAIL, description="The event store is not answering (or refused "
                                                                   "the query): retry after the Retry-After header's "
                                                                   "seconds, when there is one.")})
    def post(self, request, topic: str):
        target = topic_named(request.user, topic, request.query_params.get("cluster"))
        result = topic_query(actor=request.user, topic=target, body=request.data, via=VIA)
        return Response(EventStoreResultSerializer(result).data)
