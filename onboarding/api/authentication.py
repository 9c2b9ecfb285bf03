"""Bearer tokens for automation: ``Authorization: Bearer pep_<key_id>_<secret>``.

Only the SHA-256 of the secret is stored (onboarding/models/tokens.py); the public key id finds
the row and the hashes are compared in constant time.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from onboarding import selectors
from onboarding.history.context import attribute_to
from onboarding.models import ApiToken
from onboarding.models.tokens import TOKEN_PREFIX

# Writing last_used_at on every request would turn each read into a write; a minute is precise enough
# to tell a live token from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)
KEYWORD = "Bearer"
_MALFORMED = f"Malformed token: expected '{KEYWORD} {TOKEN_PREFIX}_<key id>_<secret>'."
_INVALID = "Invalid token."
# Compared against when no row matches, so an unknown key id costs as much time as a wrong secret.
_NO_SUCH_HASH = ApiToken.hash("no such token")


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticates ``Authorization: Bearer <token>`` against ApiToken; ``request.auth`` is the token."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: let session authentication try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_MALFORMED)
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_MALFORMED) from None
        return self.authenticate_token(raw)

    def authenticate_token(self, raw: str):
        prefix, _, rest = raw.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not key_id or not secret:
            raise exceptions.AuthenticationFailed(_MALFORMED)
        token = selectors.api_token_with_key_id(key_id)
        expected = token.key_hash if token else _NO_SUCH_HASH
        if not hmac.compare_digest(expected, ApiToken.hash(secret)) or token is None:
            raise exceptions.AuthenticationFailed(_INVALID)
        # Only someone who holds the secret learns why a real token stopped working.
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"This token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC; create a new one.")
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The account this token belongs to is disabled.")
        user = token.user
        named = {}
        if token.team_id is not None:
            # Audit records and row history name the token as well as the team's automation account it acts as.
            user.audit_name = named["actor_name"] = f"{user.get_username()} (token {token.display_prefix})"
        # DRF authenticates after the middleware opened the history context: name the token's user now.
        attribute_to(user, token=token.key_id, **named)
        self._touch(token, now)
        return user, token

    @staticmethod
    def _touch(token: ApiToken, now) -> None:
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            # A conditional UPDATE: concurrent requests do not pile up writes, and no other field is touched.
            ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - LAST_USED_PRECISION).update(
                last_used_at=now)
            token.last_used_at = now

    def authenticate_header(self, request) -> str:
        # Makes unauthenticated requests a 401 with a challenge rather than a 403.
        return f'{KEYWORD} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the bearer token in the OpenAPI schema (and the Authorize button of the docs)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": f"{TOKEN_PREFIX}_<key id>_<secret>",
                "description": "A personal or team API token, created on /tokens/ (or a team's tokens page), "
                                "through /api/v1/tokens/, or with `manage.py create_api_token`."}
