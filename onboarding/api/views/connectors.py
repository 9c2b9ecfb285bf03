"""/api/v1/connectors/: thin views over the connector services (declare, change, delete, run state, restart,
offsets, drift decisions)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.connectors import (
    ConnectorCreateSerializer,
    ConnectorSerializer,
    ConnectorUpdateSerializer,
    OffsetsSerializer,
    RestartSerializer,
)
from onboarding.api.views.changes import change_request_accepted
from onboarding.api.views.team_resources import TeamResourceViewSet
from onboarding.models import AuditEvent, ChangeRequest, Connector
from onboarding.services import connectors as services

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


@extend_schema_view(
    list=extend_schema(summary="List your teams' connectors"),
    retrieve=extend_schema(summary="Get a connector", responses={200: ConnectorSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(summary="Declare a Kafka Connect connector of your team", request=ConnectorCreateSerializer,
                         description="The config is checked by the portal's rules and Connect's own validate "
                                     "endpoint before anything is saved; errors are per config key. A gated cluster "
                                     "answers 202 with the change request.",
                         responses={201: ConnectorSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Change a connector", request=ConnectorUpdateSerializer,
                                 responses={200: ConnectorSerializer, 409: schema.CONFLICT, **WRITE_ERRORS}),
    destroy=extend_schema(summary="Delete a connector from the worker", request=None,
                          responses={202: ConnectorSerializer, **WRITE_ERRORS}),
)
class ConnectorViewSet(TeamResourceViewSet):
    """A team's connector on its cluster's Kafka Connect worker."""

    serializer_class = ConnectorSerializer
    queryset = Connector.objects.none()
    visible_to = staticmethod(selectors.connectors_visible_to)
    one_for = staticmethod(selectors.connector_for)

    def create(self, request):
        fields = _validated(ConnectorCreateSerializer(data=request.data))
        errors = {}
        team = selectors.team_with_slug(slug := fields.pop("team"))
        if team is None:
            errors["team"] = [f"There is no team with the slug {slug!r}."]
        cluster = selectors.cluster_named(name := fields.pop("cluster"))
        if cluster is None:
            errors["cluster"] = [f"There is no cluster named {name!r}."]
        if errors:
            raise serializers.ValidationError(errors)
        connector = services.connector_create(actor=request.user, team=team, cluster=cluster, via=VIA, **fields)
        if isinstance(connector, ChangeRequest):
            return change_request_accepted(request, connector)
        data = self.get_serializer(connector).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        connector = self.get_object()
        changes = _validated(ConnectorUpdateSerializer(data=request.data, partial=True))
        expected = changes.pop("generation", None)
        connector = services.connector_update(actor=request.user, connector=connector,
                                              expected_generation=expected, via=VIA, **changes)
        if isinstance(connector, ChangeRequest):
            return change_request_accepted(request, connector)
        return self._answer(connector)

    def destroy(self, request, pk=None):
        connector = services.connector_delete(actor=request.user, connector=self.get_object(), via=VIA)
        if isinstance(connector, ChangeRequest):
            return change_request_accepted(request, connector)
        return self._answer(connector, status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Pause the connector", request=None, responses={200: ConnectorSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._state(Connector.DesiredState.PAUSED)

    @extend_schema(summary="Resume the connector", request=None,
                   responses={200: ConnectorSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._state(Connector.DesiredState.RUNNING)

    @extend_schema(summary="Stop the connector (needed before an offsets reset)", request=None,
                   responses={200: ConnectorSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return self._state(Connector.DesiredState.STOPPED)

    @extend_schema(summary="Restart the connector (and its tasks) on the worker", request=RestartSerializer,
                   responses={200: ConnectorSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        options = _validated(RestartSerializer(data=request.data))
        connector = self.get_object()
        services.connector_restart(actor=request.user, connector=connector, via=VIA, **options)
        return self._answer(connector)

    @extend_schema(methods=["get"], summary="The offsets the worker holds for the connector",
                   responses={200: {"type": "object"}, 404: schema.NOT_FOUND})
    @extend_schema(methods=["post"], summary="Reset (no offsets) or alter the offsets of a STOPPED connector; "
                                             "gated as connector.offsets",
                   request=OffsetsSerializer, responses={200: ConnectorSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["get", "post"])
    def offsets(self, request, pk=None):
        connector = self.get_object()
        if request.method == "GET":
            offsets, error = services.connector_offsets(connector)
            return Response({"offsets": offsets, "error": error})
        body = _validated(OffsetsSerializer(data=request.data))
        outcome = services.connector_offsets_reset(actor=request.user, connector=connector,
                                                   offsets=body.get("offsets"), via=VIA)
        if isinstance(outcome, ChangeRequest):
            return change_request_accepted(request, outcome)
        return self._answer(outcome)

    @extend_schema(summary="Drift: put the portal's config back on the worker", request=None,
                   responses={200: ConnectorSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="revert")
    def revert(self, request, pk=None):
        return self._answer(services.connector_drift_revert(actor=request.user, connector=self.get_object(),
                                                            via=VIA))

    @extend_schema(summary="Drift: take the worker's config as the desired one", request=None,
                   responses={200: ConnectorSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="adopt")
    def adopt(self, request, pk=None):
        return self._answer(services.connector_drift_adopt(actor=request.user, connector=self.get_object(),
                                                           via=VIA))

    def _state(self, state: str) -> Response:
        connector = services.connector_set_state(actor=self.request.user, connector=self.get_object(), state=state,
                                                 via=VIA)
        if isinstance(connector, ChangeRequest):
            return change_request_accepted(self.request, connector)
        return self._answer(connector)

    def _answer(self, connector: Connector, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(connector).data, status=code)


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
