"""Aggregations a user sees."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from onboarding.errors import NotFound
from onboarding.models import Aggregation, Membership, ResourceStatus, Team, Topic
from onboarding.permissions import can_read_team, is_operator


def _aggregations() -> QuerySet[Aggregation]:
    return Aggregation.objects.select_related("cluster", "team", "source__team", "source__cluster")


def aggregations_visible_to(user, *, include_deleted: bool = False) -> QuerySet[Aggregation]:
    """Operators see all; others their teams' aggregations and those of public topics (as they see the topics:
    a private source's aggregations stay with the teams that may read it)."""
    aggregations = _aggregations()
    if not include_deleted:
        aggregations = aggregations.exclude(status=ResourceStatus.DELETED)
    if is_operator(user):
        return aggregations
    own_teams = Membership.objects.filter(user=user).values("team_id")
    return aggregations.filter(Q(team_id__in=own_teams) | Q(source__visibility=Topic.Visibility.PUBLIC))


def aggregation_for(user, pk) -> Aggregation:
    """An aggregation the user may see; anyone else gets 'not found'."""
    aggregation = aggregations_visible_to(user, include_deleted=True).filter(pk=pk).first()
    if aggregation is None:
        raise NotFound("No such aggregation.")
    return aggregation


def aggregations_of_team(user, team: Team) -> QuerySet[Aggregation]:
    if not can_read_team(user, team):
        return aggregations_visible_to(user).filter(team=team)
    return _aggregations().filter(team=team).exclude(status=ResourceStatus.DELETED)


def aggregations_of_source(user, topic: Topic) -> QuerySet[Aggregation]:
    return aggregations_visible_to(user).filter(source=topic)


def aggregation_sources_for(team: Team) -> QuerySet[Topic]:
    """The live topics ``team`` may aggregate: its own and those it holds an approved subscription to."""
    subscribed = Topic.objects.filter(subscriptions__subscriber=team, subscriptions__decision="approved",
                                      subscriptions__delete_requested_at__isnull=True).values("pk")
    return (Topic.objects.select_related("cluster", "team").filter(Q(team=team) | Q(pk__in=subscribed))
            .exclude(status=ResourceStatus.DELETED).filter(delete_requested_at__isnull=True).order_by("name"))
