"""/api/v1/mappings/, /api/v1/code-tables/ and /api/v1/canonical-topics/: thin views over the mapping, code table
and canonical topic services. A refused save answers 400 with the errors by path, the editor's words."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.mappings import (
    CanonicalMarkSerializer,
    CanonicalTopicSerializer,
    CodeTableCreateSerializer,
    CodeTableSerializer,
    CodeTableUpdateSerializer,
    MappingCreateSerializer,
    MappingPreviewSerializer,
    MappingSerializer,
    MappingUpdateSerializer,
    MappingVersionSerializer,
    PromoteSerializer,
    RollbackSerializer,
)
from onboarding.api.views.changes import change_request_accepted
from onboarding.api.views.team_resources import TeamResourceViewSet
from onboarding.errors import NotFound
from onboarding.models import AuditEvent, ChangeRequest, CodeTable, Mapping
from onboarding.selectors import mappings as reads
from onboarding.selectors.teams import cluster_named, team_with_slug
from onboarding.services import code_tables as table_services
from onboarding.services import mappings as services
from onboarding.services.mappings_check import mapping_preview

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


def _validated(serializer: serializers.Serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _inputs(request, fields: dict) -> tuple:
    team, source, canonical, errors = reads.mapping_inputs(
        request.user, team=fields.pop("team"), cluster=fields.pop("cluster"),
        source_topic=fields.pop("source_topic"), canonical_topic=fields.pop("canonical_topic"))
    if errors:
        raise serializers.ValidationError(errors)
    return team, source, canonical


@extend_schema_view(
    list=extend_schema(summary="List your teams' mappings"),
    retrieve=extend_schema(summary="Get a mapping with its current version",
                           responses={200: MappingSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(summary="Declare a mapping of a source topic into a canonical topic",
                         request=MappingCreateSerializer,
                         description="The rules are checked against both value schemas and must fill every "
                                     "required canonical field; errors are keyed rules[i].<part> and "
                                     "targets.<path>. A gated cluster answers 202 with the change request.",
                         responses={201: MappingSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Save a new version of a mapping", request=MappingUpdateSerializer,
                                 responses={200: MappingSerializer, 409: schema.CONFLICT, **WRITE_ERRORS}),
    destroy=extend_schema(summary="Delete a mapping (the mapper stops running it)", request=None,
                          responses={202: MappingSerializer, **WRITE_ERRORS}),
)
class MappingViewSet(TeamResourceViewSet):
    """A team's normalization mapping: field rules from its source topic into a canonical topic."""

    serializer_class = MappingSerializer
    queryset = Mapping.objects.none()
    visible_to = staticmethod(reads.mappings_visible_to)
    one_for = staticmethod(reads.mapping_for)

    def create(self, request):
        fields = _validated(MappingCreateSerializer(data=request.data))
        team, source, canonical = _inputs(request, fields)
        mapping = services.mapping_create(actor=request.user, team=team, source_topic=source,
                                          canonical_topic=canonical, rules=fields.pop("rules", []), via=VIA, **fields)
        if isinstance(mapping, ChangeRequest):
            return change_request_accepted(request, mapping)
        data = self.get_serializer(mapping).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        mapping = self.get_object()
        changes = _validated(MappingUpdateSerializer(data=request.data, partial=True))
        expected = changes.pop("generation", None)
        mapping = services.mapping_update(actor=request.user, mapping=mapping, expected_generation=expected,
                                          via=VIA, **changes)
        if isinstance(mapping, ChangeRequest):
            return change_request_accepted(request, mapping)
        return self._answer(mapping)

    def destroy(self, request, pk=None):
        mapping = services.mapping_delete(actor=request.user, mapping=self.get_object(), via=VIA)
        if isinstance(mapping, ChangeRequest):
            return change_request_accepted(request, mapping)
        return self._answer(mapping, status.HTTP_202_ACCEPTED)

    @extend_schema(summary="Every saved version of the mapping, newest first",
                   responses={200: MappingVersionSerializer(many=True), 404: schema.NOT_FOUND})
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        versions = reads.mapping_versions(self.get_object())
        return Response(MappingVersionSerializer(versions, many=True).data)

    @extend_schema(summary="Promote the mapping to another cluster (its topics of the same names there)",
                   request=PromoteSerializer, responses={200: MappingSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        body = _validated(PromoteSerializer(data=request.data))
        cluster = cluster_named(body["cluster"])
        if cluster is None:
            raise serializers.ValidationError({"cluster": [f"There is no cluster named {body['cluster']!r}."]})
        outcome = services.mapping_promote(actor=request.user, mapping=self.get_object(), cluster=cluster, via=VIA)
        if isinstance(outcome, ChangeRequest):
            return change_request_accepted(request, outcome)
        return self._answer(outcome)

    @extend_schema(summary="A new version with the rules of an earlier one", request=RollbackSerializer,
                   responses={200: MappingSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        body = _validated(RollbackSerializer(data=request.data))
        outcome = services.mapping_rollback(actor=request.user, mapping=self.get_object(), number=body["version"],
                                            via=VIA)
        if isinstance(outcome, ChangeRequest):
            return change_request_accepted(request, outcome)
        return self._answer(outcome)

    @extend_schema(summary="Check rules and run them over pasted or recent events (nothing saved)",
                   request=MappingPreviewSerializer,
                   responses={200: OpenApiResponse(description="{errors, coverage, results, unavailable}: errors "
                                                               "as a save would give them; per event its output, "
                                                               "provenance (rule and source per output field), "
                                                               "problems against the canonical schema"),
                              400: schema.ERRORS, 403: schema.FORBIDDEN})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        fields = _validated(MappingPreviewSerializer(data=request.data))
        team, source, canonical = _inputs(request, fields)
        return Response(mapping_preview(actor=request.user, team=team, source_topic=source,
                                        canonical_topic=canonical, rules=fields.get("rules", []),
                                        events=fields.get("events"), recent=fields.get("recent", 0),
                                        source_version=fields.get("source_version"),
                                        canonical_version=fields.get("canonical_version"), via=VIA))

    def _answer(self, mapping: Mapping, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(mapping).data, status=code)


@extend_schema_view(
    list=extend_schema(summary="List code tables"),
    retrieve=extend_schema(summary="Get a code table (its latest version)",
                           responses={200: CodeTableSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(summary="Create a code table of your team", request=CodeTableCreateSerializer,
                         responses={201: CodeTableSerializer, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Change a code table (new entries or default: a new version)",
                                 request=CodeTableUpdateSerializer,
                                 responses={200: CodeTableSerializer, 409: schema.CONFLICT, **WRITE_ERRORS}),
    destroy=extend_schema(summary="Delete a code table no live mapping uses", request=None,
                          responses={204: None, **WRITE_ERRORS}),
)
class CodeTableViewSet(viewsets.GenericViewSet):
    """A team's code table (local codes -> standard values), versioned."""

    serializer_class = CodeTableSerializer
    lookup_value_converter = "int"
    queryset = CodeTable.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CodeTable.objects.none()
        return reads.code_tables_visible_to(self.request.user).order_by("team__slug", "name", "id")

    def get_object(self) -> CodeTable:
        return reads.code_table_for(self.request.user, self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        fields = _validated(CodeTableCreateSerializer(data=request.data))
        team = team_with_slug(slug := fields.pop("team"))
        if team is None:
            raise serializers.ValidationError({"team": [f"There is no team with the slug {slug!r}."]})
        table = table_services.code_table_create(actor=request.user, team=team, via=VIA, **fields)
        data = self.get_serializer(table).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        changes = _validated(CodeTableUpdateSerializer(data=request.data, partial=True))
        expected = changes.pop("generation", None)
        table = table_services.code_table_update(actor=request.user, table=self.get_object(),
                                                 expected_generation=expected, via=VIA, **changes)
        return Response(self.get_serializer(table).data)

    def destroy(self, request, pk=None):
        table_services.code_table_delete(actor=request.user, table=self.get_object(), via=VIA)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List canonical topics (the platform's standards)"),
    create=extend_schema(summary="Mark a topic canonical (operators and the topic's owners)",
                         request=CanonicalMarkSerializer, responses={201: CanonicalTopicSerializer, **WRITE_ERRORS}),
    destroy=extend_schema(summary="Unmark a canonical topic no live mapping writes into", request=None,
                          responses={204: None, **WRITE_ERRORS}),
)
class CanonicalTopicViewSet(viewsets.GenericViewSet):
    serializer_class = CanonicalTopicSerializer
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        return reads.canonical_topics().order_by("topic__name")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request):
        body = _validated(CanonicalMarkSerializer(data=request.data))
        cluster = cluster_named(body["cluster"])
        topic = reads.topic_named(request.user, cluster, body["topic"]) if cluster else None
        if topic is None:
            raise serializers.ValidationError({"topic": [f"There is no topic {body['topic']!r} on "
                                                         f"{body['cluster']} that you can see."]})
        canonical = services.canonical_topic_mark(actor=request.user, topic=topic,
                                                  description=body.get("description", ""), via=VIA)
        return Response(self.get_serializer(canonical).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        canonical = self.get_queryset().filter(topic_id=pk).first()
        if canonical is None:
            raise NotFound("No such canonical topic.")
        services.canonical_topic_unmark(actor=request.user, topic=canonical.topic, via=VIA)
        return Response(status=status.HTTP_204_NO_CONTENT)
