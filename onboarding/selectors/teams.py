"""Teams, memberships and clusters a user sees."""

from __future__ import annotations

from django.db.models import QuerySet

from onboarding.models import Cluster, Membership, Team
from onboarding.permissions import is_operator


def in_users_teams(user, rows: QuerySet, field: str = "team_id") -> QuerySet:
    """Operators see every row; anyone else only rows of the teams they belong to (any role)."""
    if is_operator(user):
        return rows
    return rows.filter(**{f"{field}__in": Membership.objects.filter(user=user).values("team_id")})


def teams_of(user) -> QuerySet[Team]:
    if is_operator(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


def writable_teams_of(user) -> QuerySet[Team]:
    if is_operator(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user,
                               memberships__role__in=[Membership.Role.OWNER, Membership.Role.MEMBER]).distinct()


def clusters_with_policies() -> QuerySet[Cluster]:
    """Every cluster with its topic policy (one query); any signed-in user may read them."""
    return Cluster.objects.select_related("topic_policy")


def cluster_named(name: str) -> Cluster | None:
    return Cluster.objects.filter(name=name).first()


def team_with_slug(slug: str) -> Team | None:
    """Any team by slug: whether the actor may act for it is the service's decision."""
    return Team.objects.filter(slug=slug).first()


def teams_with_members_of(user) -> QuerySet[Team]:
    """The teams a user may see, with their memberships loaded for listing members."""
    return teams_of(user).prefetch_related("memberships__user")
