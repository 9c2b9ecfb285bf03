"""API tokens: the ones a user holds or manages."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from onboarding.errors import NotFound
from onboarding.models import ApiToken, Membership, Team
from onboarding.permissions import is_operator


def api_token_with_key_id(key_id: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(key_id=key_id).first()


def _tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user", "team", "created_by").order_by("-created_at", "-id")


def personal_tokens_of(user) -> QuerySet[ApiToken]:
    return _tokens().filter(user=user, team__isnull=True)


def team_tokens_of(team: Team) -> QuerySet[ApiToken]:
    return _tokens().filter(team=team)


def tokens_manageable_by(user) -> QuerySet[ApiToken]:
    """A person's own tokens and the tokens of the teams they own. Operators own every team (as in
    services/access.py), so they manage every team token; other people's personal tokens stay in the admin."""
    if is_operator(user):
        return _tokens().filter(Q(user=user, team__isnull=True) | Q(team__isnull=False))
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("team_id")
    return _tokens().filter(Q(user=user, team__isnull=True) | Q(team__in=owned))


def token_for(user, pk) -> ApiToken:
    token = tokens_manageable_by(user).filter(pk=pk).first()
    if token is None:
        raise NotFound("No such token.")
    return token
