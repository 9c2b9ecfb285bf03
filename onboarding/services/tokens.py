"""API tokens for automation: personal or owned by a team, shown once, bounded in lifetime, revoked for good.

A team token acts as the team's automation account ``<team>-automation``: a real user holding the
member role, with no usable password, made here the first time the team gets a token. Roles and
object checks therefore apply to team tokens exactly as to people, and the token keeps working
when the person who made it leaves the company.

Team tokens also open the event gateway: every cluster's access run writes their grants table, so
creating or revoking one schedules an access run of every cluster (expiry needs none: the gateway
refuses an expired grant itself).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import ApiToken, Cluster, Membership, Team
from onboarding.permissions import is_operator, is_team_owner
from onboarding.queue import access_reconcile_soon

NAME_LENGTH = ApiToken._meta.get_field("name").max_length
AUTOMATION_SUFFIX = "-automation"
CONTROL_CHARACTERS = ("Use visible characters only: no line breaks, tabs or other control characters in a "
                      "token's name.")


def _is_self(actor, user) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.pk == user.pk)


def is_automation_account(user) -> bool:
    """Whether ``user`` is a team's automation account (team tokens act as it; nobody logs in as it)."""
    return bool(user is not None and user.pk and Team.objects.filter(automation_user_id=user.pk).exists())


def max_token_lifetime() -> timedelta:
    return timedelta(days=settings.TOKEN_MAX_DAYS)


def _checked_fields(*, name: str, scope: str, expires_at: datetime | None) -> tuple[str, datetime, dict]:
    """Cleaned name and expiry (the maximum lifetime when none is given), and the field errors."""
    name = (name or "").strip()
    now = timezone.now()
    latest = now + max_token_lifetime()
    errors: dict[str, list[str]] = {}
    if not 1 <= len(name) <= NAME_LENGTH:
        errors["name"] = [f"Name the token in 1 to {NAME_LENGTH} characters, e.g. 'payments CI'."]
    elif any(unicodedata.category(char).startswith("C") for char in name):
        # Control, format and unassigned characters: invisible in lists, and able to forge lines in logs.
        errors["name"] = [CONTROL_CHARACTERS]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [f"Choose one of: {', '.join(ApiToken.Scope.values)}."]
    if expires_at is None:
        expires_at = latest
    elif expires_at <= now:
        errors["expires_at"] = ["The expiry must lie in the future."]
    elif expires_at > latest + timedelta(minutes=1):  # a minute of slack for the time the form took
        errors["expires_at"] = [f"Tokens live at most {settings.TOKEN_MAX_DAYS} days: choose an expiry before "
                                f"{latest:%Y-%m-%d}."]
    return name, expires_at, errors


def token_create(*, actor, user, name: str, scope: str, expires_at: datetime | None = None,
                 via: str) -> tuple[ApiToken, str]:
    """A new personal token for ``user``; returns it with its plain text, which is never stored or shown again.

    People make tokens for themselves; operators for anyone. ``actor=None`` is the system itself
    (``manage.py create_api_token``). Without ``expires_at`` the token lives TOKEN_MAX_DAYS.
    """
    if actor is not None and not (_is_self(actor, user) or is_operator(actor)):
        raise PermissionDenied("Only the person themself or a platform operator creates their API tokens.")
    name, expires_at, errors = _checked_fields(name=name, scope=scope, expires_at=expires_at)
    if not user.is_active:
        errors["user"] = [f"The account {user.get_username()} is disabled; its tokens would not work."]
    elif is_automation_account(user):
        errors["user"] = [f"{user.get_username()} is a team's automation account: create a team token instead."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        token, plain = ApiToken.new(user=user, name=name, scope=scope, expires_at=expires_at,
                                    created_by=actor if actor is not None and actor.is_authenticated else None)
        audit_record(actor=actor, via=via, action="apitoken.create", obj=token, after=_snapshot(token))
    return token, plain


def team_token_create(*, actor, team: Team, name: str, scope: str, expires_at: datetime | None = None,
                      via: str) -> tuple[ApiToken, str]:
    """A new token owned by ``team`` (its owners and operators); returns it with its plain text, shown once.

    The token acts as the team's automation account, made on first use. ``created_by`` records the actor.
    """
    if actor is not None and not is_team_owner(actor, team):
        raise PermissionDenied("Only the team's owners or platform operators create its tokens.")
    name, expires_at, errors = _checked_fields(name=name, scope=scope, expires_at=expires_at)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked_team = Team.objects.select_for_update(no_key=True).get(pk=team.pk)
        bot = _automation_account(team=locked_team, actor=actor, via=via)
        token, plain = ApiToken.new(user=bot, team=team, name=name, scope=scope, expires_at=expires_at,
                                    created_by=actor if actor is not None and actor.is_authenticated else None)
        audit_record(actor=actor, via=via, action="apitoken.create", obj=token, team=team, after=_snapshot(token))
        _schedule_grants()
    return token, plain


def _schedule_grants() -> None:
    """An access run of every cluster after commit: each writes the gateway's grants table for its cluster."""
    for cluster_id in Cluster.objects.filter(is_active=True).values_list("pk", flat=True):
        access_reconcile_soon(cluster_id)


def _automation_account(*, team: Team, actor, via: str):
    """The team's automation account, made (with the member role) the first time it is needed."""
    if team.automation_user_id is not None:
        return team.automation_user
    username = f"{team.slug}{AUTOMATION_SUFFIX}"
    users = get_user_model().objects
    if users.filter(username=username).exists():
        raise ValidationError({"team": [f"The user name {username} is taken by a person; an operator must rename "
                                        "that account before the team can have tokens."]})
    bot = users.create_user(username, email="", password=None)  # no usable password: nobody logs in as it
    team.automation_user = bot
    team.save(update_fields=["automation_user"])
    membership = Membership.objects.create(user=bot, team=team, role=Membership.Role.MEMBER)
    audit_record(actor=actor, via=via, action="membership.set", obj=membership, team=team,
                 after={"user": username, "role": membership.role}, note="automation account for team tokens")
    return bot


def can_manage_token(actor, token: ApiToken) -> bool:
    """Team tokens: the team's owners; personal tokens: their person. Operators: all."""
    if token.team_id is not None:
        return is_team_owner(actor, token.team)
    return _is_self(actor, token.user) or is_operator(actor)


def token_revoke(*, actor, token: ApiToken, via: str) -> bool:
    """Stop a token from working, for good (its owner, the team's owners for a team token, or an operator).

    Idempotent: revoking a revoked token changes nothing, keeps the first date and writes no audit
    record; returns whether this call revoked it.
    """
    if actor is not None and not can_manage_token(actor, token):
        raise PermissionDenied("Only the token's owner or a platform operator revokes it.")
    now = timezone.now()
    with transaction.atomic():
        # Conditional: of two revokes at once exactly one updates the row and is audited.
        if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            return False
        before = _snapshot(token)
        token.revoked_at = now
        audit_record(actor=actor, via=via, action="apitoken.revoke", obj=token, team=token.team,
                     before={**before, "revoked_at": None}, after=_snapshot(token))
        if token.team_id is not None:
            _schedule_grants()  # the tombstone reaches the gateways within seconds
    return True


def _snapshot(token: ApiToken) -> dict:
    """What is audited about a token: never its hash."""
    return {
        "user": token.user.get_username(), "name": token.name, "key_id": token.key_id, "scope": token.scope,
        "team": token.team.slug if token.team_id else None,
        "created_by": token.created_by.get_username() if token.created_by_id else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }
