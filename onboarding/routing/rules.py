"""Routing rules, kept as a table in a compacted Kafka topic.

The rules topic is the single source of truth for the data plane: key = subscription id (UTF-8),
value = the rule as JSON, a tombstone removes the rule. Every router reads the whole topic into
memory at start and then follows it, so a rule written by the portal reaches all routers without a
restart and without a database connection in the data plane.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from onboarding.platform.compacted import TableReader, produce_and_wait
from onboarding.routing.filters import FilterError, compile_filter
from onboarding.routing.rule_index import SourceIndex

logger = logging.getLogger(__name__)

_FIELDS = ("subscription_id", "source_topic", "destination_topic", "filter", "dead_letter_topic", "enabled")


class RuleError(ValueError):
    """A rules-topic record that is not a valid rule."""


@dataclass(frozen=True)
class Rule:
    subscription_id: str
    source_topic: str
    destination_topic: str
    filter: str | None
    dead_letter_topic: str
    enabled: bool = True
    # Compiled once at load: a rule is evaluated for every event of its source topic. A filter that
    # does not compile does not drop the rule: its events go to the dead-letter topic with this reason,
    # so a subscriber sees why nothing arrives instead of silently losing events.
    compiled: object = field(default=None, init=False, repr=False, compare=False)
    broken: str | None = field(default=None, init=False, compare=False)

    def __post_init__(self):
        try:
            compiled = compile_filter(self.filter)
        except FilterError as exc:
            object.__setattr__(self, "broken", f"invalid filter: {exc}")
        else:
            object.__setattr__(self, "compiled", compiled)

    @classmethod
    def from_json(cls, data: dict) -> Rule:
        if not isinstance(data, dict):
            raise RuleError("a rule must be a JSON object")
        missing = [name for name in _FIELDS if name not in data and name not in ("filter", "enabled")]
        if missing:
            raise RuleError(f"missing fields: {', '.join(missing)}")
        for name in ("subscription_id", "source_topic", "destination_topic", "dead_letter_topic"):
            if not isinstance(data[name], str) or not data[name]:
                raise RuleError(f"{name} must be a non-empty string")
        if data.get("filter") is not None and not isinstance(data["filter"], str):
            raise RuleError("filter must be a string or null")
        if not isinstance(data.get("enabled", True), bool):
            raise RuleError("enabled must be a boolean")
        return cls(subscription_id=data["subscription_id"], source_topic=data["source_topic"],
                   destination_topic=data["destination_topic"], filter=data.get("filter"),
                   dead_letter_topic=data["dead_letter_topic"], enabled=data.get("enabled", True))

    def to_json(self) -> dict:
        return {name: getattr(self, name) for name in _FIELDS}

    def encode(self) -> bytes:
        """The record value in the rules topic (keyed by subscription id)."""
        return json.dumps(self.to_json()).encode("utf-8")


class RulesTable:
    """Latest value per key of the rules topic; tombstones (and unreadable records) delete."""

    def __init__(self):
        self._rules: dict[str, Rule] = {}
        # Records that could not be read, by key: kept so an operator can be told, never routed.
        self.invalid: dict[str, str] = {}
        # Per source topic, built on first use after a change: events ask for their topic's rules every time.
        self._indexes: dict[str, SourceIndex] = {}

    def apply(self, message) -> bool:
        """Apply one rules-topic record; True if the table changed."""
        changed = self._apply(message)
        if changed:
            self._indexes.clear()
        return changed

    def _apply(self, message) -> bool:
        raw_key = message.key()
        if raw_key is None:
            logger.warning("rules record without key at %s[%s]@%s ignored", message.topic(), message.partition(),
                           message.offset())
            return False
        key = raw_key.decode("utf-8", errors="replace")
        value = message.value()
        if value is None:
            self.invalid.pop(key, None)
            return self._rules.pop(key, None) is not None
        try:
            rule = Rule.from_json(json.loads(value))
            if rule.subscription_id != key:
                raise RuleError(f"subscription_id {rule.subscription_id!r} differs from the record key")
        except (ValueError, RuleError) as exc:
            # A newer unreadable value supersedes the older rule: routing on a rule its owner has
            # replaced would be worse than not routing at all.
            logger.error("rules record %r at offset %s is invalid: %s", key, message.offset(), exc)
            self.invalid[key] = str(exc)
            return self._rules.pop(key, None) is not None
        self.invalid.pop(key, None)
        # `broken` derives from `filter`, so comparing the declared fields is enough.
        changed = self._rules.get(key) != rule
        self._rules[key] = rule
        return changed

    def get(self, subscription_id: str) -> Rule | None:
        return self._rules.get(subscription_id)

    def all(self) -> list[Rule]:
        return sorted(self._rules.values(), key=lambda rule: rule.subscription_id)

    def rules_for(self, source_topic: str) -> list[Rule]:
        return [rule for rule in self.all() if rule.enabled and rule.source_topic == source_topic]

    def index_for(self, source_topic: str) -> SourceIndex:
        """The enabled rules of a source topic, indexed by their filters (see rule_index)."""
        index = self._indexes.get(source_topic)
        if index is None:
            index = self._indexes[source_topic] = SourceIndex(self.rules_for(source_topic))
        return index

    def source_topics(self) -> set[str]:
        return {rule.source_topic for rule in self._rules.values() if rule.enabled}


class RulesTableReader(TableReader):
    """Reads the rules topic from the beginning into a RulesTable, then follows it (every router sees every
    rule: see platform.compacted.CompactedTableReader)."""

    def __init__(self, topic: str, kafka_config: dict, table: RulesTable | None = None, *,
                 group_id: str | None = None):
        super().__init__(topic, kafka_config, table or RulesTable(), what="rules", group_id=group_id)


def rule_upsert(producer, topic: str, rule: Rule, *, timeout: float = 30.0) -> None:
    """Write (or replace) a rule and wait until the broker has it."""
    produce_and_wait(producer, topic, rule.subscription_id, rule.encode(), timeout)


def rule_delete(producer, topic: str, subscription_id: str, *, timeout: float = 30.0) -> None:
    """Write the tombstone that removes a rule (compaction later drops it entirely)."""
    produce_and_wait(producer, topic, subscription_id, None, timeout)
