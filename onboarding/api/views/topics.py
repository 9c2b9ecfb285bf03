"""/api/v1/topics/: thin views that shape input, call the topic services and shape the answer."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers import (
    AttemptSerializer,
    TopicCreateSerializer,
    TopicDeleteSerializer,
    TopicSerializer,
    TopicUpdateSerializer,
)
from onboarding.api.serializers.changes import ChangeRequestSerializer, TopicPromoteSerializer
from onboarding.api.views.changes import change_request_accepted
from onboarding.changes.promotion import topic_promote
from onboarding.errors import Conflict, PermissionDenied
from onboarding.filtersets import TopicFilterSet
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, Topic
from onboarding.permissions import can_read_team
from onboarding.services.topics import topic_create, topic_delete, topic_update
from onboarding.services.topics_drift import topic_adopt, topic_revert
from portal.api_errors import PreconditionFailed

VIA = AuditEvent.Via.API
MAX_ATTEMPTS = 200
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}
# A cluster whose change policy gates the operation answers with the change request it opened.
GATED = {202: ChangeRequestSerializer}


@extend_schema_view(
    list=extend_schema(summary="List the topics you can see"),
    retrieve=extend_schema(summary="Get a topic", parameters=[schema.ETAG],
                           responses={200: TopicSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(summary="Register a new topic", request=TopicCreateSerializer, parameters=[schema.ETAG],
                         responses={201: TopicSerializer, **GATED, **WRITE_ERRORS}),
    update=extend_schema(summary="Replace a topic's changeable fields", request=TopicUpdateSerializer,
                         parameters=[schema.IF_MATCH, schema.ETAG],
                         responses={200: TopicSerializer, **GATED, **WRITE_ERRORS, 409: schema.CONFLICT,
                                    412: schema.PRECONDITION_FAILED}),
    partial_update=extend_schema(summary="Change some of a topic's fields", request=TopicUpdateSerializer,
                                 parameters=[schema.IF_MATCH, schema.ETAG],
                                 responses={200: TopicSerializer, **GATED, **WRITE_ERRORS, 409: schema.CONFLICT,
                                            412: schema.PRECONDITION_FAILED}),
    destroy=extend_schema(summary="Delete a topic from the cluster (the record stays, status deleted)",
                          request=TopicDeleteSerializer, parameters=[schema.CONFIRM, schema.ETAG],
                          responses={202: TopicSerializer, **WRITE_ERRORS}),
)
class TopicViewSet(viewsets.GenericViewSet):
    """Topics of the platform. Writes are queued: the answer shows the new desired state with status
    pending (or deleting), and a worker applies it to the cluster shortly after."""

    serializer_class = TopicSerializer
    filterset_class = TopicFilterSet
    lookup_value_converter = "int"
    queryset = Topic.objects.none()  # documents the model for the schema; reads go through selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Topic.objects.none()
        # Deleted topics stay as records; they are listed only when a client asks for them.
        include_deleted = self.request.query_params.get("status") == ResourceStatus.DELETED
        return selectors.topics_visible_to(self.request.user, include_deleted=include_deleted).order_by("name", "id")

    def get_object(self) -> Topic:
        return selectors.topic_for(self.request.user, self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._answer(self.get_object())

    def create(self, request):
        fields = _validated(TopicCreateSerializer(data=request.data))
        cluster_name, team_slug = fields.pop("cluster"), fields.pop("team")
        cluster, team = selectors.cluster_named(cluster_name), selectors.team_with_slug(team_slug)
        errors = {}
        if cluster is None:
            errors["cluster"] = [f"There is no cluster named {cluster_name!r}."]
        if team is None:
            errors["team"] = [f"There is no team with the slug {team_slug!r}."]
        if errors:
            raise serializers.ValidationError(errors)
        topic = topic_create(actor=request.user, cluster=cluster, team=team, via=VIA, **fields)
        if isinstance(topic, ChangeRequest):
            return change_request_accepted(request, topic)
        data = self.get_serializer(topic).data
        return created(data, location=data["url"], headers={"ETag": f'"{topic.generation}"'})

    def update(self, request, pk=None, partial=False):
        topic = self.get_object()
        from_header = _if_match(request)
        changes = _validated(TopicUpdateSerializer(data=request.data, partial=partial, context={"topic": topic}))
        body_generation = changes.pop("generation", None)
        expected = from_header if from_header is not None else body_generation
        try:
            topic = topic_update(actor=request.user, topic=topic, expected_generation=expected, via=VIA, **changes)
        except Conflict as exc:
            if from_header is not None:
                raise PreconditionFailed(str(exc), current_generation=exc.current_generation) from None
            raise
        if isinstance(topic, ChangeRequest):
            return change_request_accepted(request, topic)
        return self._answer(topic)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        topic = self.get_object()
        body = _validated(TopicDeleteSerializer(data=request.data if request.data else {}))
        confirm = request.query_params.get("confirm", body.get("confirm_name", ""))
        wants = request.query_params.get("delete_schemas", "").lower() in {"1", "true", "yes"}
        topic = topic_delete(actor=request.user, topic=topic, confirm_name=confirm,
                             delete_schemas=wants or body.get("delete_schemas", False), via=VIA)
        if isinstance(topic, ChangeRequest):
            return change_request_accepted(request, topic)
        return self._answer(topic, status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Promote to the next environment (a change request there, applied at once when its "
                           "policy needs no approval)", request=TopicPromoteSerializer,
                   responses={202: ChangeRequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        overrides = _validated(TopicPromoteSerializer(data=request.data if request.data else {}))
        cr = topic_promote(actor=request.user, topic=self.get_object(), via=VIA, overrides=overrides)
        return change_request_accepted(request, cr)

    @extend_schema(summary="Drift: put the desired state back on the cluster", request=None,
                   responses={200: TopicSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def revert(self, request, pk=None):
        return self._answer(topic_revert(actor=request.user, topic=self.get_object(), via=VIA))

    @extend_schema(summary="Drift: take what the cluster has as the desired state", request=None,
                   responses={200: TopicSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def adopt(self, request, pk=None):
        return self._answer(topic_adopt(actor=request.user, topic=self.get_object(), via=VIA))

    @extend_schema(summary="Apply attempt history, newest first", parameters=[schema.ATTEMPT_LIMIT],
                   responses={200: AttemptSerializer(many=True), 403: schema.FORBIDDEN, 404: schema.NOT_FOUND})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def attempts(self, request, pk=None):
        topic = self.get_object()
        # Like the topic page: outsiders see a public topic's metadata, never its apply history and errors.
        if not can_read_team(request.user, topic.team):
            raise PermissionDenied("Only the team's members and platform operators see the apply history.")
        limit = _bounded_int(request.query_params.get("limit"), "limit", default=20, maximum=MAX_ATTEMPTS)
        attempts = selectors.topic_attempts(topic, limit=limit)
        return Response(AttemptSerializer(attempts, many=True).data)

    def _answer(self, topic: Topic, code: int = status.HTTP_200_OK) -> Response:
        answer = Response(self.get_serializer(topic).data, status=code)
        answer["ETag"] = f'"{topic.generation}"'
        return answer


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _if_match(request) -> int | None:
    """The generation named by If-Match (``"3"``, ``W/"3"`` or ``3``); ``*`` and no header mean any."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise serializers.ValidationError(
            {"If-Match": ['Send one ETag as the topic\'s GET returned it, for example "3".']})
    return int(value)


def _bounded_int(raw: str | None, name: str, *, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise serializers.ValidationError({name: [f"A whole number from 1 to {maximum}."]})
    return int(raw)
