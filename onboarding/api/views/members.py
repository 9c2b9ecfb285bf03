"""/api/v1/teams/{id}/members/: a team's people and roles. Everyone in the team reads them; its owners and
operators add, change and remove them through services/teams.py, which keeps the team's last owner."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.teams import MemberAddSerializer, MemberRoleSerializer, MemberSerializer
from onboarding.errors import ValidationError
from onboarding.forms.identity import active_user_named
from onboarding.models import AuditEvent, Membership, Team
from onboarding.services.teams import membership_remove, membership_set

VIA = AuditEvent.Via.API
WRITE_ERRORS = {400: schema.ERRORS, 403: schema.FORBIDDEN, 404: schema.NOT_FOUND}


def _team(request, pk: int) -> Team:
    """The team, if the caller may see it; anyone else gets the same 404 as for a team that does not exist."""
    team = selectors.teams_of(request.user).filter(pk=pk).first()
    if team is None:
        raise exceptions.NotFound("No such team.")
    return team


def _member(team: Team, username: str) -> Membership:
    membership = Membership.objects.select_related("user", "team").filter(team=team, user__username=username).first()
    if membership is None:
        raise exceptions.NotFound("No such member.")
    return membership


# The service calls the person ``user``; problems of the whole change go where the API lists them.
_API_FIELD = {"user": "username", NON_FIELD_ERRORS: api_settings.NON_FIELD_ERRORS_KEY}


def _as_fields(exc: ValidationError) -> serializers.ValidationError:
    """The service's field errors, named as the API's fields."""
    return serializers.ValidationError({_API_FIELD.get(key, key): messages
                                        for key, messages in exc.message_dict.items()})


def _location(team: Team, username: str) -> str:
    return reverse("api:team-member", args=[team.pk, username])


class TeamMembersView(APIView):
    @extend_schema(summary="List a team's members", responses={200: MemberSerializer(many=True),
                                                               404: schema.NOT_FOUND})
    def get(self, request, pk: int):
        team = _team(request, pk)
        members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
        return Response(MemberSerializer(members, many=True).data)

    @extend_schema(summary="Owners: add a person to the team, or change their role",
                   request=MemberAddSerializer, responses={201: MemberSerializer, 200: MemberSerializer,
                                                           **WRITE_ERRORS})
    def post(self, request, pk: int):
        team = _team(request, pk)
        body = MemberAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            user = active_user_named(body.validated_data["username"])
        except forms.ValidationError as exc:
            raise serializers.ValidationError({"username": exc.messages}) from None
        existed = Membership.objects.filter(team=team, user=user).exists()
        try:
            membership = membership_set(actor=request.user, team=team, user=user, role=body.validated_data["role"],
                                        via=VIA)
        except ValidationError as exc:
            raise _as_fields(exc) from None
        answer = Response(MemberSerializer(membership).data,
                          status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)
        answer["Location"] = _location(team, user.get_username())
        return answer


class TeamMemberView(APIView):
    @extend_schema(summary="Get one member's role", responses={200: MemberSerializer, 404: schema.NOT_FOUND})
    def get(self, request, pk: int, username: str):
        return Response(MemberSerializer(_member(_team(request, pk), username)).data)

    @extend_schema(summary="Owners: change a member's role", request=MemberRoleSerializer,
                   responses={200: MemberSerializer, **WRITE_ERRORS})
    def patch(self, request, pk: int, username: str):
        membership = _member(_team(request, pk), username)
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            membership = membership_set(actor=request.user, team=membership.team, user=membership.user,
                                        role=body.validated_data["role"], via=VIA)
        except ValidationError as exc:
            raise _as_fields(exc) from None
        return Response(MemberSerializer(membership).data)

    @extend_schema(summary="Owners: take a person out of the team", request=None,
                   responses={204: None, **WRITE_ERRORS})
    def delete(self, request, pk: int, username: str):
        membership = _member(_team(request, pk), username)
        try:
            membership_remove(actor=request.user, membership=membership, via=VIA)
        except ValidationError as exc:
            raise _as_fields(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
