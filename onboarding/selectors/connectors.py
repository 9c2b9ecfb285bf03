"""Reads of connectors for views and the API. A connector's config names the team's systems, so only its
team's members (any role) and operators see it; anyone else is told it does not exist."""

from __future__ import annotations

from django.db.models import QuerySet

from onboarding.errors import NotFound
from onboarding.models import Connector, ResourceStatus, Team
from onboarding.selectors.teams import in_users_teams


def connectors_visible_to(user, *, include_deleted: bool = False) -> QuerySet[Connector]:
    rows = Connector.objects.select_related("team", "cluster")
    if not include_deleted:
        rows = rows.exclude(status=ResourceStatus.DELETED)
    return in_users_teams(user, rows)


def connector_for(user, pk) -> Connector:
    connector = connectors_visible_to(user, include_deleted=True).filter(pk=pk).first()
    if connector is None:
        raise NotFound("No such connector.")
    return connector


def connectors_of_team(user, team: Team) -> QuerySet[Connector]:
    return connectors_visible_to(user).filter(team=team)
