"""API tokens for automation: made for a person, shown once, revoked for good."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from onboarding.models import ApiToken
from onboarding.services.access import is_operator
from onboarding.services.audit import audit_record
from onboarding.services.errors import PermissionDenied, ValidationError

NAME_LENGTH = ApiToken._meta.get_field("name").max_length


def _is_self(actor, user) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.pk == user.pk)


def token_create(*, actor, user, name: str, scope: str, expires_at: datetime | None = None,
                 via: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its plain text, which is never stored or shown again.

    People make tokens for themselves; operators for anyone. ``actor=None`` is the system itself
    (``manage.py create_api_token``).
    """
    if actor is not None and not (_is_self(actor, user) or is_operator(actor)):
        raise PermissionDenied("Only the person themself or a platform operator creates their API tokens.")
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not user.is_active:
        errors["user"] = [f"The account {user.get_username()} is disabled; its tokens would not work."]
    if not 1 <= len(name) <= NAME_LENGTH:
        errors["name"] = [f"Name the token in 1 to {NAME_LENGTH} characters, e.g. 'payments CI'."]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [f"Choose one of: {', '.join(ApiToken.Scope.values)}."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must lie in the future."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        token, plain = ApiToken.new(user=user, name=name, scope=scope, expires_at=expires_at)
        audit_record(actor=actor, via=via, action="apitoken.create", obj=token, after=_snapshot(token))
    return token, plain


def token_revoke(*, actor, token: ApiToken, via: str) -> bool:
    """Stop a token from working, for good (its owner or an operator).

    Idempotent: revoking a revoked token changes nothing, keeps the first date and writes no audit
    record; returns whether this call revoked it.
    """
    if actor is not None and not (_is_self(actor, token.user) or is_operator(actor)):
        raise PermissionDenied("Only the token's owner or a platform operator revokes it.")
    now = timezone.now()
    with transaction.atomic():
        # Conditional: of two revokes at once exactly one updates the row and is audited.
        if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            return False
        before = _snapshot(token)
        token.revoked_at = now
        audit_record(actor=actor, via=via, action="apitoken.revoke", obj=token,
                     before={**before, "revoked_at": None}, after=_snapshot(token))
    return True


def _snapshot(token: ApiToken) -> dict:
    """What is audited about a token: never its hash."""
    return {
        "user": token.user.get_username(), "name": token.name, "key_id": token.key_id, "scope": token.scope,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }
