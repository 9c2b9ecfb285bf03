"""/api/v1/teams/<slug>/manifest/: a team's resources as one declarative manifest (GitOps)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.permissions import TokenScopeAllows
from onboarding.errors import NotFound, ValidationError
from onboarding.gitops.manifest import ManifestError
from onboarding.gitops.service import (
    manifest_apply,
    manifest_document,
    manifest_export,
    manifest_plan,
    read_request,
)
from onboarding.models import AuditEvent

YAML = "application/yaml"
TRUE = {"1", "true", "yes", "on"}

MANIFEST_SHAPE = """A team manifest (YAML or JSON):

```yaml
apiVersion: portal/v1
kind: TeamManifest
team: payments                  # the team's slug; must match the URL
topics:                         # sorted by (cluster, name)
- cluster: local
  name: payments.orders
  partitions: 3
  replication_factor: 1
  configs: {retention.ms: '604800000'}
  description: Orders as they are placed.
  tags: [orders]
  visibility: public            # public | private
  subscriptions_need_approval: false
  schemas:                      # optional; key and/or value
    value: {format: AVRO, compatibility: BACKWARD, schema: '<schema text>'}
service_accounts:               # never secrets
- {cluster: local, name: reader, description: Our consumers}
subscriptions:                  # this team's own requests, as subscriber
- {cluster: local, source: clinical.visits, mode: routed, filter: "value.kind == 'x'",
   service_account: reader, destination: payments.visits, reason: Billing needs visits}
```

Optional fields left out are not managed (left as they are). Resources of the team that the manifest leaves out
are planned as deletions, applied only with `allow_deletes=true`. A subscription's `reason` is sent with a new
request only. Errors are keyed by manifest path, e.g. `topics[2].partitons: unknown field; did you mean
partitions?`."""

OPTIONS = [
    OpenApiParameter("dry_run", bool, OpenApiParameter.QUERY, required=False,
                     description="Only plan: nothing changes (also accepted as a top-level `dry_run` body field)."),
    OpenApiParameter("allow_deletes", bool, OpenApiParameter.QUERY, required=False,
                     description="Apply deletions of resources absent from the manifest (or `allow_deletes` in the "
                                 "body)."),
]
PLAN = inline_serializer("ManifestPlan", {
    "dry_run": serializers.BooleanField(),
    "summary": serializers.DictField(child=serializers.IntegerField(),
                                     help_text="create, update, delete, unchanged: how many of each."),
    "plan": serializers.ListField(child=serializers.DictField(), help_text=(
        "Actions in apply order: op (create/update/delete/unchanged), kind, name, path, and for updates "
        "changes: field -> {old, new}.")),
    "results": serializers.ListField(child=serializers.DictField(), help_text=(
        "Applied changes with the resource id; a new service account's password is shown here once.")),
    "change_requests": serializers.ListField(child=serializers.DictField(), help_text=(
        "Changes that wait for an approval under the cluster's policy.")),
})


def _flag(value) -> bool:
    return value is True or str(value).lower() in TRUE


class PlanningAllowed(TokenScopeAllows):
    """A dry run changes nothing, so a read-scope token may ask for one (``?dry_run=true``), e.g. from CI."""

    def has_permission(self, request, view) -> bool:
        if request.method == "POST" and _flag(request.query_params.get("dry_run", "")):
            return True
        return super().has_permission(request, view)


class TeamManifestView(APIView):
    """Export, plan (dry run) and apply a team's declarative manifest."""

    permission_classes = [IsAuthenticated, PlanningAllowed]

    def _team(self, slug: str):
        team = selectors.team_with_slug(slug)
        if team is None:
            raise NotFound("No such team.")
        return team

    @extend_schema(
        summary="Export a team's resources as a manifest", description=MANIFEST_SHAPE,
        parameters=[OpenApiParameter("format", str, OpenApiParameter.QUERY, required=False, enum=["yaml", "json"],
                                     description="yaml (default, `application/yaml`) or json.")],
        responses={(200, YAML): OpenApiResponse(OpenApiTypes.OBJECT, description="The manifest as a YAML document."),
                   (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="?format=json"),
                   404: schema.NOT_FOUND})
    def get(self, request, slug: str):
        team = self._team(slug)
        if request.query_params.get("format", "").lower() == "json":
            return Response(manifest_document(actor=request.user, team=team))
        return HttpResponse(manifest_export(actor=request.user, team=team), content_type=f"{YAML}; charset=utf-8")

    @extend_schema(
        summary="Plan (dry run) or apply a team manifest", description=MANIFEST_SHAPE, parameters=OPTIONS,
        request={YAML: OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT},
        examples=[OpenApiExample("dry run", request_only=True, media_type=YAML, value=(
            "apiVersion: portal/v1\nkind: TeamManifest\nteam: payments\ntopics:\n- cluster: local\n"
            "  name: payments.orders\n  partitions: 3\n"))],
        responses={200: PLAN, 400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND,
                   409: schema.CONFLICT})
    def post(self, request, slug: str):
        team = self._team(slug)
        try:
            options, document = read_request(request.body, request.content_type or "")
        except ManifestError as exc:
            raise ValidationError(exc.errors) from None
        query = request.query_params
        dry_run = _flag(query.get("dry_run", options.get("dry_run", False)))
        allow_deletes = _flag(query.get("allow_deletes", options.get("allow_deletes", False)))
        if dry_run:
            result = manifest_plan(actor=request.user, team=team, document=document)
        else:
            result = manifest_apply(actor=request.user, team=team, document=document, allow_deletes=allow_deletes,
                                    via=AuditEvent.Via.API)
        return Response(result.as_dict())
