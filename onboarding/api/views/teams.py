"""/api/v1/teams/: teams, created by operators and edited by their owners."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.permissions import IsOperator
from onboarding.api.responses import created
from onboarding.api.serializers import (
    TeamSerializer,
)
from onboarding.api.serializers.teams import TeamCreateSerializer, TeamUpdateSerializer
from onboarding.api.serializers.webhooks import NotificationEmailsSerializer
from onboarding.models import AuditEvent, Team
from onboarding.services.teams import team_create, team_notification_emails_set, team_update

OPERATORS_ONLY = [*api_settings.DEFAULT_PERMISSION_CLASSES, IsOperator]


@extend_schema_view(list=extend_schema(summary="List your teams"),
                    retrieve=extend_schema(summary="Get a team", responses={200: TeamSerializer,
                                                                            404: schema.NOT_FOUND}),
                    create=extend_schema(summary="Operators: create a team", request=TeamCreateSerializer,
                                         responses={201: TeamSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN}),
                    partial_update=extend_schema(summary="Owners: change a team's name, description or contacts",
                                                 request=TeamUpdateSerializer,
                                                 responses={200: TeamSerializer, 400: schema.ERRORS,
                                                            403: schema.FORBIDDEN, 404: schema.NOT_FOUND}))
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """The teams you belong to (operators see every team), with members and contacts. Operators create teams;
    a team's owners change it and manage its members (``/teams/{id}/members/``)."""

    serializer_class = TeamSerializer
    lookup_value_converter = "int"
    queryset = Team.objects.none()  # documents the model for the schema; reads go through selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Team.objects.none()
        return selectors.teams_with_members_of(self.request.user)

    def create(self, request):
        body = TeamCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = team_create(actor=request.user, via=AuditEvent.Via.API, **body.validated_data)
        data = self.get_serializer(self.get_queryset().get(pk=team.pk)).data
        return created(data, location=data["url"])

    def partial_update(self, request, pk=None):
        team = self.get_object()
        body = TeamUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team_update(actor=request.user, team=team, via=AuditEvent.Via.API, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=team.pk)).data)

    @extend_schema(summary="Owners: replace the team's notification e-mail recipients",
                   request=NotificationEmailsSerializer,
                   responses={200: TeamSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND})
    @action(detail=True, methods=["put"], url_path="notification-emails", filter_backends=[], pagination_class=None)
    def notification_emails(self, request, pk=None):
        team = self.get_object()
        body = NotificationEmailsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team_notification_emails_set(actor=request.user, team=team, emails=body.validated_data["notification_emails"],
                                     via=AuditEvent.Via.API)
        return Response(self.get_serializer(self.get_queryset().get(pk=team.pk)).data)
