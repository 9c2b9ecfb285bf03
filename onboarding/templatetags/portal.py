"""Small template helpers for the portal pages (role checks and policy texts live in Python, not templates)."""

from django import template

from onboarding import permissions as access
from onboarding import policies

register = template.Library()


@register.filter
def is_operator(user) -> bool:
    return access.is_operator(user)


@register.filter
def can_write(user, team) -> bool:
    return access.can_write_team(user, team)


@register.filter
def is_owner(user, team) -> bool:
    """Owners and operators decide about drift (revert/adopt)."""
    return access.is_team_owner(user, team)


@register.filter
def rule_text(rule: dict) -> str:
    return policies.describe_rule(rule)


@register.filter
def sorted_items(mapping):
    """Config dicts in key order, so pages read the same every time."""
    return sorted((mapping or {}).items())


@register.filter
def or_default(value, text: str = "cluster default"):
    """Drift tables show a missing config as the broker default rather than 'None'."""
    return text if value in (None, "") else value


@register.filter
def as_json(value) -> str:
    """A decoded event (or part of one) as indented JSON for a <pre>; text stays text."""
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def clip(text: str, length: int) -> str:
    """What truncatechars gives for plain text (an ellipsis ends a longer one) without its per-character walk,
    which cost more than the rest of a topic table's row."""
    return text if len(text) <= length else text[:length - 1] + "…"
