"""Single sign-on with OpenID Connect (mozilla-django-oidc), used only when OIDC_RP_CLIENT_ID is set.

The identity provider's claims name a portal account: ``preferred_username``, or else the local
part of ``email``. The account is made on first sign-in and its name and e-mail kept in step
afterwards. Team roles may come from the provider's groups (OIDC_GROUPS_CLAIM, mapped by
OIDC_TEAM_ROLE_MAP): at each sign-in the memberships single sign-on made follow the groups, through
the same services and audit as any other change; a membership granted in the portal is never
changed or removed by it, and the last owner of a team stays.

Refused: claims without an e-mail, user names Django would not accept, disabled
accounts, team automation accounts, and an existing account whose e-mail differs from the
provider's (so a provider account cannot take over an unrelated local account of the same name).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import SuspiciousOperation, ValidationError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from onboarding.models import AuditEvent, Membership, Team
from onboarding.services.teams import membership_remove, membership_set

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


# When two groups give roles in one team, the stronger one counts.
_STRENGTH = {Membership.Role.VIEWER: 0, Membership.Role.MEMBER: 1, Membership.Role.OWNER: 2}
SSO = Membership.Source.SSO


def groups_in(claims: dict, claim: str) -> list[str]:
    """The groups claim as a list (providers send a list, or one group as a string)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    return [group for group in value if isinstance(group, str)] if isinstance(value, list) else []


def team_roles_for(groups: list[str], mapping: dict[str, list[tuple[str, str]]]) -> dict[str, tuple[str, list]]:
    """team slug -> (the strongest role the groups give, the groups that give it)."""
    wanted: dict[str, tuple[str, list]] = {}
    for group in groups:
        for team, role in mapping.get(group, []):
            held = wanted.get(team)
            if held is None or _STRENGTH[role] > _STRENGTH[held[0]]:
                wanted[team] = (role, [group])
            elif role == held[0]:
                held[1].append(group)
    return wanted


def team_roles_sync(user, claims: dict) -> None:
    """Make the memberships single sign-on gave ``user`` match the groups in these claims."""
    mapping = getattr(settings, "OIDC_TEAM_ROLE_MAP", None)
    if not mapping:
        return  # roles are not taken from the provider
    wanted = team_roles_for(groups_in(claims, settings.OIDC_GROUPS_CLAIM), mapping)
    teams = {team.slug: team for team in Team.objects.filter(slug__in=wanted)}
    held = {m.team.slug: m for m in Membership.objects.filter(user=user).select_related("team", "user")}
    for slug, (role, groups) in wanted.items():
        current = held.get(slug)
        if slug not in teams:
            log.warning("single sign-on: group %s names team %s, which does not exist", groups[0], slug)
        elif current is not None and current.source != SSO:
            continue  # granted in the portal: the portal's owners decide it
        elif current is None or current.role != role:
            _apply(membership_set, user, team=teams[slug], user=user, role=role, source=SSO,
                   note=f"From single sign-on group {', '.join(groups)}")
    for slug, membership in held.items():
        if membership.source == SSO and slug not in wanted:
            _apply(membership_remove, user, membership=membership,
                   note="Single sign-on no longer lists a group that gives this role")


def _apply(service, who, **fields) -> None:
    try:
        service(actor=None, via=AuditEvent.Via.SYSTEM, **fields)
    except ValidationError as exc:  # the team's last owner stays until someone else is made one
        log.warning("single sign-on: %s not applied for %s: %s", service.__name__, who.get_username(),
                    " ".join(exc.messages))


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with the portal's claims-to-account mapping."""

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        user = user_for_claims(claims)
        if user is not None:
            team_roles_sync(user, claims)
        return user

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
