"""Peek: the last events of a topic, decoded and with sensitive fields masked, for those allowed to read it.

Who may peek: the topic's team (any role), platform operators, and teams with an approved, live
subscription to the topic. Anyone else is refused (a private topic stays 'not found' for them).
Every peek is audited (who, which topic, how many events), also when the cluster could not be read,
because looking at production data is what a SOC audit asks about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onboarding.audit import audit_record
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.history import context as history_context
from onboarding.history.models import record_peek
from onboarding.models import AuditEvent, Membership, Subscription, Topic
from onboarding.peek.events import PeekEvent, peek_event
from onboarding.permissions import can_read_team, is_operator
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for, registry_connection_for
from onboarding.platform.kafka_peek import read_latest
from onboarding.platform.registry import Registry
from onboarding.routing.decode import SchemaCache
from onboarding.selectors.classification import classification_of, masked_paths

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


@dataclass
class PeekResult:
    topic: Topic
    limit: int
    events: list[PeekEvent]
    masked: dict[str, dict[str, str]]  # side -> path -> classification
    inherited: dict[str, dict[str, str]] = field(default_factory=dict)  # side -> path -> source topic's name


def may_peek(user, topic: Topic) -> bool:
    if is_operator(user) or can_read_team(user, topic.team):
        return True
    if not (user and user.is_authenticated):
        return False
    teams = Membership.objects.filter(user=user).values("team_id")
    return Subscription.objects.filter(source=topic, subscriber_id__in=teams, decision=Subscription.Decision.APPROVED,
                                       delete_requested_at__isnull=True).exists()


def check_limit(raw) -> int:
    """The number of events asked for, 1..50 (default 10); a field-level error otherwise."""
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Ask for 1 to {MAX_LIMIT} events."]})
    return limit


def sensitive_paths(topic: Topic) -> dict[str, dict[str, str]]:
    """side -> {path: classification}: the topic's own tags and those inherited from topics routed into it."""
    return masked_paths(classification_of(topic))


def topic_peek(*, actor, topic: Topic, limit=DEFAULT_LIMIT, via: str = AuditEvent.Via.SYSTEM) -> PeekResult:
    """The last ``limit`` events; PlatformError when the cluster or registry cannot be read (audited too)."""
    if not may_peek(actor, topic):
        if topic.visibility == Topic.Visibility.PRIVATE:
            raise NotFound("No such topic.")
        raise PermissionDenied("Only the topic's team, platform operators and teams with an approved subscription "
                               "can look at its events.")
    limit = check_limit(limit)
    tags = classification_of(topic)
    masked = masked_paths(tags)
    inherited: dict[str, dict[str, str]] = {}
    for tag in tags:
        if tag.inherited:
            inherited.setdefault(tag.side, {})[tag.path] = tag.source.name
    try:
        records = read_latest(kafka_connection_for(topic.cluster), topic.name, limit)
        schemas = SchemaCache(Registry.shared(registry_connection_for(topic.cluster)))
        events = [peek_event(record, schemas, masked) for record in records]
    except PlatformError as exc:
        _audit(actor, topic, via, limit, 0, note=f"failed: {exc}")
        raise
    _audit(actor, topic, via, limit, len(events))
    return PeekResult(topic=topic, limit=limit, events=events, masked=masked, inherited=inherited)


def _audit(actor, topic: Topic, via: str, limit: int, count: int, note: str = "") -> None:
    # The record says how many events were read; the row event puts the peek into the team's trail.
    with history_context.opened(**history_context.user_fields(actor), via=via):
        audit_record(actor=actor, via=via, action="topic.peek", obj=topic, team=topic.team,
                     after={"limit": limit, "events": count}, note=note)
        record_peek(topic)
