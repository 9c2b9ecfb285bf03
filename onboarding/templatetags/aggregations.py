"""Aggregations on the pages of other resources (a topic, a team), so those views need not know about them."""

from __future__ import annotations

from django import template

from onboarding.aggregation_rules import format_duration
from onboarding.selectors import (
    aggregation_sources_for,
    aggregations_of_source,
    aggregations_of_team,
    writable_teams_of,
)

register = template.Library()


@register.simple_tag
def topic_aggregations(user, topic) -> list:
    """The aggregations of ``topic`` the user may see."""
    return list(aggregations_of_source(user, topic).order_by("team__slug", "name"))


@register.simple_tag
def team_aggregations(user, team) -> list:
    return list(aggregations_of_team(user, team).order_by("name"))


@register.simple_tag
def may_aggregate(user, topic) -> bool:
    """Whether one of the user's writable teams may aggregate ``topic`` (owns it or is subscribed)."""
    if not topic.is_live or topic.wants_deletion:
        return False
    return any(aggregation_sources_for(team).filter(pk=topic.pk).exists() for team in writable_teams_of(user))


@register.filter
def window_short(agg) -> str:
    """"tumbling 1h", "hopping 1h every 15m", "session gap 30m": a table cell's worth of the window."""
    if agg.window_type == "session":
        return f"session gap {format_duration(agg.gap_ms)}"
    text = f"{agg.window_type} {format_duration(agg.size_ms)}"
    return f"{text} every {format_duration(agg.advance_ms)}" if agg.advance_ms else text
