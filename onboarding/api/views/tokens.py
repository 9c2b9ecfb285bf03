"""/api/v1/tokens/: your personal tokens and the tokens of the teams you own; secrets appear once."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.responses import created
from onboarding.api.serializers.tokens import ApiTokenCreateSerializer, ApiTokenSecretSerializer, ApiTokenSerializer
from onboarding.models import ApiToken, AuditEvent
from onboarding.permissions import can_read_team
from onboarding.services.tokens import team_token_create, token_create, token_revoke

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


@extend_schema_view(
    list=extend_schema(summary="List your tokens and those of the teams you own"),
    retrieve=extend_schema(summary="Get a token (never its secret)",
                           responses={200: ApiTokenSerializer, 404: schema.NOT_FOUND}),
    create=extend_schema(summary="Create a personal or team token (the secret is in this answer only)",
                         request=ApiTokenCreateSerializer, responses={201: ApiTokenSecretSerializer, **WRITE_ERRORS}),
)
class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Bearer tokens for automation. Team tokens act as the team's automation account."""

    serializer_class = ApiTokenSerializer
    lookup_value_converter = "int"
    queryset = ApiToken.objects.none()  # documents the model for the schema; reads go through selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return selectors.tokens_manageable_by(self.request.user)

    def get_object(self) -> ApiToken:
        return selectors.token_for(self.request.user, self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        slug = fields.pop("team")
        if slug:
            team = selectors.team_with_slug(slug)
            if team is None or not can_read_team(request.user, team):
                raise serializers.ValidationError({"team": [f"There is no team with the slug {slug!r}."]})
            token, plain = team_token_create(actor=request.user, team=team, via=VIA, **fields)
        else:
            token, plain = token_create(actor=request.user, user=request.user, via=VIA, **fields)
        token.token = plain
        data = ApiTokenSecretSerializer(token, context=self.get_serializer_context()).data
        return created(data, location=data["url"])

    @extend_schema(summary="Revoke a token for good", request=None,
                   responses={200: ApiTokenSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        token_revoke(actor=request.user, token=token, via=VIA)
        token.refresh_from_db()
        return Response(self.get_serializer(token).data)
