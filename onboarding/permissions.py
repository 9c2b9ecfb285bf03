"""Who may do what: one place for the role rules, used by services, selectors and views."""

from __future__ import annotations

from onboarding.models import Membership, Team


def is_operator(user) -> bool:
    """Platform operators run the platform: they may act on every team's resources."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.is_staff))


def roles_of(user) -> dict[int, str]:
    """The user's role per team id, read once per request (kept on the user object)."""
    if not (user and user.is_authenticated):
        return {}
    cache = getattr(user, "_portal_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
        user._portal_roles = cache
    return cache


def remember_roles(user, roles: dict[int, str]) -> None:
    """Roles a selector read with its own statement (the topic page's header): what ``roles_of`` would read."""
    if user and user.is_authenticated:
        user._portal_roles = roles


def role_in(user, team: Team) -> str | None:
    return roles_of(user).get(team.pk)


def can_read_team(user, team: Team) -> bool:
    return is_operator(user) or role_in(user, team) is not None


def can_write_team(user, team: Team) -> bool:
    return is_operator(user) or role_in(user, team) in (Membership.Role.OWNER, Membership.Role.MEMBER)


def writes_in_another_team(user, team: Team) -> bool:
    """Whether the user writes in a team other than ``team`` (one that may subscribe to its topics). From the
    roles read once per request, so a page that already checked the user's role asks nothing more."""
    if is_operator(user):
        return Team.objects.exclude(pk=team.pk).exists()
    writers = (Membership.Role.OWNER, Membership.Role.MEMBER)
    return any(pk != team.pk and role in writers for pk, role in roles_of(user).items())


def is_team_owner(user, team: Team) -> bool:
    return is_operator(user) or role_in(user, team) == Membership.Role.OWNER
