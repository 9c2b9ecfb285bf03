"""Single sign-on with OpenID Connect (mozilla-django-oidc), used only when OIDC_RP_CLIENT_ID is set.

The identity provider's claims name a portal account: ``preferred_username``, or else the local
part of ``email``. The account is made on first sign-in and its name and e-mail kept in step
afterwards. Team roles are not taken from the provider: owners grant them in the portal as for
local accounts. Refused: claims without an e-mail, user names Django would not accept, disabled
accounts, team automation accounts, and an existing account whose e-mail differs from the
provider's (so a provider account cannot take over an unrelated local account of the same name).
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import SuspiciousOperation, ValidationError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from onboarding.models import Team

log = logging.getLogger(__name__)
_USERNAME = UnicodeUsernameValidator()
USERNAME_LENGTH = 150


def username_from_claims(claims: dict) -> str | None:
    """``preferred_username``, else the e-mail's local part; None when neither makes a valid user name."""
    candidate = (claims.get("preferred_username") or "").strip()
    if not candidate:
        candidate = (claims.get("email") or "").strip().partition("@")[0]
    try:
        _USERNAME(candidate)
    except ValidationError:
        return None
    return candidate if 0 < len(candidate) <= USERNAME_LENGTH else None


def user_for_claims(claims: dict):
    """The portal account these verified claims sign in as (made on first sign-in), or None if refused."""
    email = (claims.get("email") or "").strip()
    if "@" not in email:
        log.warning("single sign-on refused: the provider sent no e-mail address")
        return None
    username = username_from_claims(claims)
    if username is None:
        log.warning("single sign-on refused: no usable user name in the claims of %s", email)
        return None
    names = {"first_name": (claims.get("given_name") or "")[:150], "last_name": (claims.get("family_name") or "")[:150]}
    users = get_user_model().objects
    user = users.filter(username=username).first()
    if user is None:
        return users.create_user(username, email=email, password=None, **names)
    if Team.objects.filter(automation_user=user).exists() or not user.is_active:
        log.warning("single sign-on refused for %s: a disabled or automation account", username)
        return None
    if user.email and user.email.lower() != email.lower():
        log.warning("single sign-on refused for %s: the account's e-mail differs from the provider's", username)
        return None
    changed = {field: value for field, value in {"email": email, **names}.items()
               if value and getattr(user, field) != value}
    if changed:
        for field, value in changed.items():
            setattr(user, field, value)
        user.save(update_fields=list(changed))
    return user


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with the portal's claims-to-account mapping."""

    def get_or_create_user(self, access_token, id_token, payload):
        return user_for_claims(self.get_userinfo(access_token, id_token, payload))

    def filter_users_by_claims(self, claims):
        username = username_from_claims(claims)
        return self.UserModel.objects.filter(username=username) if username else self.UserModel.objects.none()

    def verify_claims(self, claims) -> bool:
        return "@" in (claims.get("email") or "")

    def verify_token(self, token, **kwargs):
        # The library checks the signature, expiry and nonce but not the audience: an ID token the
        # provider issued to another of its clients must not sign anyone in here.
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        if self.OIDC_RP_CLIENT_ID not in (audience if isinstance(audience, list) else [audience]):
            raise SuspiciousOperation("The ID token was issued to another client.")
        return payload
