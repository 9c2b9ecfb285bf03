"""Desired manifest + current manifest -> the actions that make the portal match the manifest. Pure.

Both sides are validated manifests (``manifest.validate`` for the desired one, the export of the database
for the current one). A field left out of the desired manifest (``None``) is not compared. Schema texts
are compared by canonical fingerprint, so a reformatted schema is not a new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from onboarding.aggregation_rules import DurationError, parse_duration
from onboarding.gitops.manifest import (
    SIDES,
    account_key,
    aggregation_key,
    code_table_key,
    connector_key,
    event_store_key,
    mapping_key,
    subscription_key,
    topic_key,
)
from onboarding.gitops.manifest_schema import SCHEMA_ENTRY
from onboarding.mapping.rules import RuleFormatError, rules_from_json, rules_to_json
from onboarding.schemas.validation import fingerprint

CREATE, UPDATE, DELETE, UNCHANGED = "create", "update", "delete", "unchanged"
TOPIC_COMPARED = ("partitions", "replication_factor", "configs", "description", "tags", "visibility",
                  "subscriptions_need_approval")
ACCOUNT_COMPARED = ("description", "quota")
# A subscription's reason is read by the topic's owners when they decide; it is not changed afterwards.
SUBSCRIPTION_COMPARED = ("filter",)
AGGREGATION_COMPARED = ("description", "source", "filter", "group_by", "window_type", "size", "advance", "gap",
                        "grace", "time_source", "time_field", "measures", "emit", "late", "output_topic",
                        "start_from")
CONNECTOR_COMPARED = ("description", "connector_class", "config", "secret_refs", "desired_state")
CODE_TABLE_COMPARED = ("description", "entries", "default")
MAPPING_COMPARED = ("description", "source_topic", "canonical_topic", "rules")
EVENT_STORE_COMPARED = ("mode", "retention_days", "indexed_fields")
DURATIONS = ("size", "advance", "gap", "grace")
# An aggregation reads a topic (its own, or one a subscription lets it read): after both.
# A connector reads or writes topics (its own, or subscribed ones): after those too.
# A mapping reads its source topic (its own or subscribed) and the code tables it names: after those.
# A topic kept in the event store must exist first.
APPLY_ORDER = ("service_account", "topic", "schema", "subscription", "aggregation", "connector", "code_table",
               "mapping", "event_store")


@dataclass
class Action:
    """One planned step: ``op`` on the resource ``kind`` named by ``key``, with field-level changes."""

    op: str
    kind: str
    key: tuple
    path: str = ""  # where the resource is in the desired manifest ("" for deletions)
    desired: dict | None = None
    changes: dict[str, dict] = field(default_factory=dict)  # field -> {"old": ..., "new": ...}

    @property
    def name(self) -> str:
        return "/".join(str(part) for part in self.key if part != "")

    def as_dict(self) -> dict:
        answer = {"op": self.op, "kind": self.kind, "name": self.name}
        if self.path:
            answer["path"] = self.path
        if self.changes:
            answer["changes"] = self.changes
        return answer


@dataclass
class Plan:
    """Actions in apply order: creations and updates by dependency, then deletions in reverse."""

    actions: list[Action]

    def of(self, op: str) -> list[Action]:
        return [a for a in self.actions if a.op == op]

    @property
    def deletions(self) -> list[Action]:
        return self.of(DELETE)

    @property
    def changes_anything(self) -> bool:
        return any(a.op != UNCHANGED for a in self.actions)

    def summary(self) -> dict[str, int]:
        return {op: len(self.of(op)) for op in (CREATE, UPDATE, DELETE, UNCHANGED)}

    def as_list(self) -> list[dict]:
        return [a.as_dict() for a in self.actions]


def raw_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_fingerprint(text: str, fmt: str) -> str:
    """Canonical fingerprint (formatting does not matter); the raw digest when the text cannot be read."""
    try:
        return fingerprint(text, fmt)
    except (ValueError, RecursionError):
        return raw_fingerprint(text)


def normalized_configs(configs: Mapping) -> dict[str, str]:
    """Kafka configs are strings; a manifest may write numbers and booleans."""
    def text(value) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value).strip()

    return {key: text(value) for key, value in configs.items()}


def _comparable(name: str, value):
    if name == "quota":  # a key set to null is a key left out
        return {k: v for k, v in (value or {}).items() if v is not None}
    if name in DURATIONS:
        try:
            return parse_duration(value)  # "60m" and "1h" are the same window
        except DurationError:
            return value  # the checks refuse it; here it only differs
    if name == "measures":
        return [{k: v for k, v in m.items() if v not in (None, "")} if isinstance(m, Mapping) else m
                for m in value or []]
    if name == "time_field":
        return value or ""
    if name == "configs":
        return normalized_configs(value)
    if name == "tags":
        return list(value)
    if name == "rules":
        try:
            return rules_to_json(rules_from_json(value))  # a rule without args is the rule with args {}
        except RuleFormatError:
            return value  # the checks refuse it; here it only differs
    return value


def _changes(desired: Mapping, current: Mapping, fields) -> dict[str, dict]:
    changes = {}
    for name in fields:
        wanted = desired.get(name)
        if wanted is None:
            continue
        if _comparable(name, wanted) != _comparable(name, current.get(name)):
            changes[name] = {"old": current.get(name), "new": wanted}
    return changes


def _action(kind: str, key: tuple, path: str, desired: dict, current: Mapping | None, fields) -> Action:
    if current is None:
        return Action(CREATE, kind, key, path, desired)
    changes = _changes(desired, current, fields)
    return Action(UPDATE if changes else UNCHANGED, kind, key, path, desired, changes)


def _schema_action(key: tuple, path: str, desired: dict, current: Mapping | None,
                   fingerprint: Callable[[str, str], str]) -> Action:
    if current is None:
        return Action(CREATE, "schema", key, path, desired)
    changes = _changes(desired, current, [f for f in SCHEMA_ENTRY["properties"] if f != "schema"])
    if fingerprint(desired["schema"], desired["format"]) != fingerprint(current["schema"], current["format"]):
        changes["schema"] = {"old": current["schema"], "new": desired["schema"]}
    return Action(UPDATE if changes else UNCHANGED, "schema", key, path, desired, changes)


def plan(desired: Mapping, current: Mapping, *,
         fingerprint: Callable[[str, str], str] = schema_fingerprint) -> Plan:
    """Every action that turns ``current`` into ``desired``; resources absent from ``desired`` are deleted."""
    steps: list[Action] = []
    deletions: list[Action] = []

    accounts = {account_key(a): a for a in current.get("service_accounts") or []}
    for index, account in enumerate(desired.get("service_accounts") or []):
        key = account_key(account)
        steps.append(_action("service_account", key, f"service_accounts[{index}]", account, accounts.pop(key, None),
                             ACCOUNT_COMPARED))
    deletions += [Action(DELETE, "service_account", key) for key in sorted(accounts)]

    topics = {topic_key(t): t for t in current.get("topics") or []}
    for index, topic in enumerate(desired.get("topics") or []):
        key, path = topic_key(topic), f"topics[{index}]"
        existing = topics.pop(key, None)
        steps.append(_action("topic", key, path, topic, existing, TOPIC_COMPARED))
        if topic.get("schemas") is None:
            continue  # schemas not managed by this manifest entry
        current_schemas = dict((existing or {}).get("schemas") or {})
        for side in SIDES:
            if side in topic["schemas"]:
                steps.append(_schema_action((*key, side), f"{path}.schemas.{side}", topic["schemas"][side],
                                            current_schemas.pop(side, None), fingerprint))
        for side in current_schemas:
            steps.append(Action(DELETE, "schema", (*key, side), f"{path}.schemas"))
    deletions += [Action(DELETE, "topic", key) for key in sorted(topics)]

    subscriptions = {subscription_key(s): s for s in current.get("subscriptions") or []}
    for index, sub in enumerate(desired.get("subscriptions") or []):
        key = subscription_key(sub)
        steps.append(_action("subscription", key, f"subscriptions[{index}]", sub, subscriptions.pop(key, None),
                             SUBSCRIPTION_COMPARED))
    deletions += [Action(DELETE, "subscription", key) for key in sorted(subscriptions)]

    if desired.get("aggregations") is not None:  # left out: not managed by this manifest
        aggregations = {aggregation_key(a): a for a in current.get("aggregations") or []}
        for index, agg in enumerate(desired["aggregations"]):
            key = aggregation_key(agg)
            steps.append(_action("aggregation", key, f"aggregations[{index}]", agg, aggregations.pop(key, None),
                                 AGGREGATION_COMPARED))
        deletions += [Action(DELETE, "aggregation", key) for key in sorted(aggregations)]

    if desired.get("connectors") is not None:  # left out: not managed by this manifest
        connectors = {connector_key(c): c for c in current.get("connectors") or []}
        for index, connector in enumerate(desired["connectors"]):
            key = connector_key(connector)
            steps.append(_action("connector", key, f"connectors[{index}]", connector, connectors.pop(key, None),
                                 CONNECTOR_COMPARED))
        deletions += [Action(DELETE, "connector", key) for key in sorted(connectors)]

    for section, kind, key_of, compared in (("code_tables", "code_table", code_table_key, CODE_TABLE_COMPARED),
                                            ("mappings", "mapping", mapping_key, MAPPING_COMPARED),
                                            ("event_store", "event_store", event_store_key, EVENT_STORE_COMPARED)):
        if desired.get(section) is None:  # left out: not managed by this manifest
            continue
        existing = {key_of(item): item for item in current.get(section) or []}
        for index, item in enumerate(desired[section]):
            key = key_of(item)
            steps.append(_action(kind, key, f"{section}[{index}]", item, existing.pop(key, None), compared))
        deletions += [Action(DELETE, kind, key) for key in sorted(existing)]

    steps.sort(key=lambda a: APPLY_ORDER.index(a.kind))  # stable: manifest order within a kind
    deletions.sort(key=lambda a: -APPLY_ORDER.index(a.kind))
    return Plan(steps + deletions)
