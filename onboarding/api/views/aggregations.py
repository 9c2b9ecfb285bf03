"""/api/v1/aggregations/: thin views over the aggregation services (define, change, delete)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.aggregations import (
    AggregationCreateSerializer,
    AggregationSerializer,
    AggregationUpdateSerializer,
)
from onboarding.api.views.changes import change_request_accepted
from onboarding.api.views.team_resources import TeamResourceViewSet
from onboarding.filtersets import AggregationFilterSet
from onboarding.models import Aggregation, AuditEvent, ChangeRequest, Topic
from onboarding.services.aggregations import NO_ACCESS, aggregation_create, aggregation_delete, aggregation_update

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


@extend_schema_view(
    list=extend_schema(summary="List the aggregations you may see (your teams', and those of public topics)"),
    retrieve=extend_schema(summary="Get an aggregation", responses={200: AggregationSerializer,
                                                                     404: schema.NOT_FOUND}),
    create=extend_schema(
        summary="Define an aggregation of a topic your team owns or is subscribed to",
        request=AggregationCreateSerializer,
        description="Durations accept \"15m\", \"1h\", \"30s\" or milliseconds; errors are per field. A gated "
                    "cluster answers 202 with the change request.",
        responses={201: AggregationSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(
        summary="Change an aggregation (a result-shaping change is a new version)",
        request=AggregationUpdateSerializer,
        responses={200: AggregationSerializer, 409: schema.CONFLICT, **WRITE_ERRORS}),
    destroy=extend_schema(summary="Delete an aggregation: the engine stops it; the output topic stays",
                          request=None, responses={202: AggregationSerializer, **WRITE_ERRORS}),
)
class AggregationViewSet(TeamResourceViewSet):
    """A team's windowed aggregation of a topic into its own output topic, run by the aggregation engine."""

    serializer_class = AggregationSerializer
    filterset_class = AggregationFilterSet
    queryset = Aggregation.objects.none()  # documents the model for the schema; reads go through selectors
    visible_to = staticmethod(selectors.aggregations_visible_to)
    one_for = staticmethod(selectors.aggregation_for)

    def create(self, request):
        fields = _validated(AggregationCreateSerializer(data=request.data))
        errors = {}
        team = selectors.team_with_slug(slug := fields.pop("team"))
        if team is None:
            errors["team"] = [f"There is no team with the slug {slug!r}."]
        fields["source"] = _source(fields["source"], errors)
        if errors:
            raise serializers.ValidationError(errors)
        aggregation = aggregation_create(actor=request.user, team=team, via=VIA, **fields)
        if isinstance(aggregation, ChangeRequest):
            return change_request_accepted(request, aggregation)
        data = self.get_serializer(aggregation).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        aggregation = self.get_object()
        changes = _validated(AggregationUpdateSerializer(data=request.data, partial=True))
        expected = changes.pop("generation", None)
        if "source" in changes:
            errors = {}
            changes["source"] = _source(changes["source"], errors)
            if errors:
                raise serializers.ValidationError(errors)
        aggregation = aggregation_update(actor=request.user, aggregation=aggregation, expected_generation=expected,
                                         via=VIA, **changes)
        if isinstance(aggregation, ChangeRequest):
            return change_request_accepted(request, aggregation)
        return self._answer(aggregation)

    def destroy(self, request, pk=None):
        aggregation = aggregation_delete(actor=request.user, aggregation=self.get_object(), via=VIA)
        if isinstance(aggregation, ChangeRequest):
            return change_request_accepted(request, aggregation)
        return self._answer(aggregation, status.HTTP_202_ACCEPTED)

    def _answer(self, aggregation: Aggregation, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(aggregation).data, status=code)


def _source(pk: int, errors: dict) -> Topic | None:
    """The source topic by id. An unknown id gets the service's words for a topic the team may not read,
    so a private topic's id cannot be told from a missing one."""
    topic = Topic.objects.select_related("team", "cluster").filter(pk=pk).first()
    if topic is None:
        errors["source"] = [NO_ACCESS]
    return topic


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)

