"""/api/v1/schemas/: thin views over the schema services (check, submit, modes, diff) and the event checker.

A subject is ``<topic>-<side>``; it is created by its first version. Writes are queued: the answer
shows the stored version with status pending, and a worker registers it shortly after.
"""

from __future__ import annotations

from contextlib import contextmanager

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.schemas import (
    CompatibilitySerializer,
    DiffSerializer,
    SchemaCheckResultSerializer,
    SchemaCheckSerializer,
    SchemaSerializer,
    SchemaSubmitSerializer,
    SchemaVersionDetailSerializer,
    TryEventResultSerializer,
    TryEventSerializer,
)
from onboarding.api.views.changes import change_request_accepted
from onboarding.errors import ValidationError
from onboarding.filtersets import SchemaFilterSet
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, Schema
from onboarding.schemas.events import check_event
from onboarding.services.schemas import schema_check, schema_diff, schema_set_compatibility, schema_version_submit

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}
INCLUDE = OpenApiParameter("include", str, OpenApiParameter.QUERY, required=False, enum=["text"],
                           description="text: every version with its schema text (left out by default).")
DIFF_RANGE = [
    OpenApiParameter("from", int, OpenApiParameter.QUERY, required=False,
                     description="The older version (default: the one before `to`)."),
    OpenApiParameter("to", int, OpenApiParameter.QUERY, required=False,
                     description="The newer version (default: the latest)."),
]
TOO_LARGE = {413: OpenApiResponse(schema.DETAIL, description="The body is over the API's size limit.")}


@extend_schema_view(
    list=extend_schema(summary="List the schemas (registry subjects) you can see", parameters=[INCLUDE]),
    retrieve=extend_schema(summary="Get a schema, its versions and the latest text", parameters=[INCLUDE],
                           responses={200: SchemaSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(
        summary="Submit a new version (the first one creates the subject)", request=SchemaSubmitSerializer,
        description="The version is checked like `check/` and refused (400, with the reasons) unless it is "
                    "acceptable; once stored, a worker registers it (status pending, then ready).",
        responses={201: SchemaSerializer, **WRITE_ERRORS, **TOO_LARGE}),
    partial_update=extend_schema(summary="Change the subject's compatibility mode", request=CompatibilitySerializer,
                                 responses={200: SchemaSerializer, **WRITE_ERRORS}),
)
class SchemaViewSet(viewsets.GenericViewSet):
    """Schemas of topics, one subject per side (``<topic>-key``, ``<topic>-value``), with their versions."""

    serializer_class = SchemaSerializer
    filterset_class = SchemaFilterSet
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Schema.objects.none()  # documents the model for the schema; reads go through selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Schema.objects.none()
        include_deleted = self.request.query_params.get("status") == ResourceStatus.DELETED
        return selectors.schemas_visible_to(self.request.user, include_deleted=include_deleted,
                                            with_texts=_include_text(self.request)).order_by("topic__name", "side",
                                                                                            "id")

    def get_object(self) -> Schema:
        return selectors.schema_for(self.request.user, self.kwargs["pk"], with_texts=_include_text(self.request))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):  # the OpenAPI schema documents the optional text
            context["include_text"] = _include_text(self.request)
        return context

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        fields = _validated(SchemaSubmitSerializer(data=request.data))
        topic = selectors.topic_for(request.user, fields["topic"])
        with _service_fields():
            version = schema_version_submit(actor=request.user, topic=topic, side=fields["side"],
                                            fmt=fields["format"], text=fields["schema"], note=fields.get("note", ""),
                                            compatibility=fields.get("compatibility"), via=VIA)
        if isinstance(version, ChangeRequest):
            return change_request_accepted(request, version)
        stored = selectors.schema_for(request.user, version.schema_id, with_texts=_include_text(request))
        data = self.get_serializer(stored).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        current = self.get_object()
        fields = _validated(CompatibilitySerializer(data=request.data))
        outcome = schema_set_compatibility(actor=request.user, schema=current, compatibility=fields["compatibility"],
                                           via=VIA)
        if isinstance(outcome, ChangeRequest):
            return change_request_accepted(request, outcome)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(summary="Check a proposed version without storing it", request=SchemaCheckSerializer,
                   description="Problems and incompatibility are part of the answer (200), not errors; a topic "
                               "you may not change (403), cannot see (404) or a registry that cannot answer "
                               "(400) are.",
                   responses={200: SchemaCheckResultSerializer, **WRITE_ERRORS, **TOO_LARGE})
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def check(self, request):
        fields = _validated(SchemaCheckSerializer(data=request.data))
        topic = selectors.topic_for(request.user, fields["topic"])
        with _service_fields():
            result = schema_check(actor=request.user, topic=topic, side=fields["side"], fmt=fields["format"],
                                  text=fields["schema"], compatibility=fields.get("compatibility"))
        return Response(SchemaCheckResultSerializer(result).data)

    @extend_schema(summary="Get one version with its text",
                   responses={200: SchemaVersionDetailSerializer, 404: schema.NOT_FOUND})
    @action(detail=True, methods=["get"], url_path="versions/<int:number>", filter_backends=[],
            pagination_class=None)
    def version(self, request, pk=None, number=None):
        found = selectors.schema_version(self.get_object(), number)
        return Response(SchemaVersionDetailSerializer(found).data)

    @extend_schema(summary="What changed between two versions", parameters=DIFF_RANGE,
                   responses={200: DiffSerializer, 400: schema.ERRORS, 404: schema.NOT_FOUND})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def diff(self, request, pk=None):
        subject = self.get_object()
        latest = max((version.number for version in subject.versions.all()), default=0)
        newer = _version_param(request, "to", default=latest)
        older = _version_param(request, "from", default=newer - 1)
        if older < 1:
            raise serializers.ValidationError({"from": [f"{subject.subject} has only version {newer} before it; "
                                                        "there is nothing to compare it with."]})
        changes = schema_diff(schema=subject, from_number=older, to_number=newer)
        return Response(DiffSerializer({"subject": subject.subject, "from_version": older, "to_version": newer,
                                        "changes": changes}).data)

    @extend_schema(summary="Check an event against a version (nothing is produced)", request=TryEventSerializer,
                   description="Readers may try events too (a read-scope token is enough).",
                   responses={200: TryEventResultSerializer, 400: schema.ERRORS, 404: schema.NOT_FOUND,
                              **TOO_LARGE})
    @action(detail=True, methods=["post"], url_path="try-event", permission_classes=[IsAuthenticated],
            filter_backends=[], pagination_class=None)
    def try_event(self, request, pk=None):
        subject = self.get_object()
        fields = _validated(TryEventSerializer(data=request.data))
        number = fields.get("version") or max((v.number for v in subject.versions.all()), default=0)
        version = selectors.schema_version(subject, number)
        problems = check_event(version.text, subject.format, fields["event"])
        return Response(TryEventResultSerializer({"subject": subject.subject, "version": version.number,
                                                  "valid": not problems, "problems": problems}).data)


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _include_text(request) -> bool:
    wanted = {part for part in request.query_params.get("include", "").split(",") if part}
    if wanted - {"text"}:
        raise serializers.ValidationError({"include": ["Only text can be included (?include=text)."]})
    return "text" in wanted


def _version_param(request, name: str, *, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise serializers.ValidationError({name: ["A version number: a whole number from 1."]})
    return int(raw)


@contextmanager
def _service_fields():
    """The services name the schema text ``text``; this API calls that field ``schema``."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "text" in exc.error_dict:
            errors = dict(exc.error_dict)
            errors["schema"] = errors.pop("text")
            raise ValidationError(errors) from None
        raise
