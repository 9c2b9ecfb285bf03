"""/api/v1/topics/<id>/peek/: a topic's last events, decoded and masked, each peek audited."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.peek import PeekSerializer
from onboarding.models import AuditEvent
from onboarding.peek.service import topic_peek

VIA = AuditEvent.Via.API
LIMIT = OpenApiParameter("limit", int, OpenApiParameter.QUERY, required=False,
                         description="How many of the latest events (default 10, at most 50).")


class TopicPeekView(APIView):
    """The last events of a topic, decoded and masked; every call is recorded in the audit log."""

    @extend_schema(summary="Peek at a topic's last events", parameters=[LIMIT],
                   responses={200: PeekSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND,
                              409: OpenApiResponse(schema.DETAIL, description="The topic is not on the cluster "
                                                                              "(yet): nothing to read."),
                              503: OpenApiResponse(schema.DETAIL, description="Kafka or the registry did not "
                                                                              "answer.")})
    def get(self, request, pk: int):
        topic = selectors.topic_for(request.user, pk)
        result = topic_peek(actor=request.user, topic=topic, limit=request.query_params.get("limit"), via=VIA)
        return Response(PeekSerializer(result).data)
