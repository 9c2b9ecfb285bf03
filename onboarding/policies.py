"""Naming and configuration rules for topics: pure functions, no I/O.

Each check returns field-level error messages (``{"field": ["message", ...]}``). The same texts
reach the browser form and the API, because both call the services that call these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from onboarding.choices import COMPATIBILITY_MODES

KAFKA_MAX_NAME_LENGTH = 249
KAFKA_LEGAL_NAME = re.compile(r"^[A-Za-z0-9._-]+$")

# The config keys teams may set on a new cluster's policy, with safe ranges. Operators edit them.
DEFAULT_CONFIG_RULES: dict[str, dict] = {
    "retention.ms": {"min": 60_000, "max": 31_536_000_000},
    "retention.bytes": {"min": -1, "max": 1_099_511_627_776},
    "cleanup.policy": {"choices": ["delete", "compact", "compact,delete"]},
    "min.insync.replicas": {"min": 1, "max": 5},
    "max.message.bytes": {"min": 1_024, "max": 8_388_608},
    "compression.type": {"choices": ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"]},
    "segment.ms": {"min": 600_000, "max": 31_536_000_000},
    "message.timestamp.type": {"choices": ["CreateTime", "LogAppendTime"]},
}

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def name_pattern_for(pattern: str, team_slug: str) -> re.Pattern:
    return re.compile(pattern.replace("{team}", re.escape(team_slug)))


def check_name(name: str, *, team_slug: str, pattern: str) -> list[str]:
    """Kafka's own rules first (they are absolute), then the cluster's naming pattern."""
    if not name:
        return ["Enter a topic name."]
    if len(name) > KAFKA_MAX_NAME_LENGTH:
        return [f"Kafka topic names are at most {KAFKA_MAX_NAME_LENGTH} characters; this one has {len(name)}."]
    if name in {".", ".."}:
        return ["'.' and '..' are not valid topic names."]
    if not KAFKA_LEGAL_NAME.match(name):
        illegal = sorted({c for c in name if not re.match(r"[A-Za-z0-9._-]", c)})
        return [f"Kafka topic names may only contain letters, digits, '.', '_' and '-'; "
                f"found {' '.join(repr(c) for c in illegal)}."]
    if name.startswith("__"):
        return ["Names starting with '__' are reserved for Kafka's internal topics."]
    if not name_pattern_for(pattern, team_slug).fullmatch(name):
        example = pattern.replace("{team}", team_slug)
        return [f"The name must match this cluster's pattern {example}; for example {team_slug}.orders."]
    return []


def check_partitions(partitions: int, *, minimum: int, maximum: int, current: int | None = None) -> list[str]:
    if current is not None and partitions < current:
        return [f"Partitions can grow but never shrink: this topic has {current}."]
    if not minimum <= partitions <= maximum:
        return [f"Partitions must be between {minimum} and {maximum} on this cluster."]
    return []


def check_replication_factor(factor: int, *, allowed: list[int], current: int | None = None) -> list[str]:
    if current is not None and factor != current:
        return [f"The replication factor cannot change in place: this topic has {current}."]
    if allowed and factor not in allowed:
        return [f"Replication factor must be one of {', '.join(map(str, sorted(allowed)))} on this cluster."]
    return []


def normalize_config_value(value) -> str:
    """Kafka configs are strings on the wire; accept JSON numbers and booleans too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def check_configs(configs: Mapping, *, rules: Mapping[str, dict], replication_factor: int | None = None) -> list[str]:
    """Every key must be allowed by the policy and every value inside its range or choices."""
    if not isinstance(configs, Mapping):
        return ["Configs must be an object of config names to values."]
    messages = []
    for key in sorted(configs):
        value = configs[key]
        rule = rules.get(key)
        if rule is None:
            allowed = ", ".join(sorted(rules)) or "none"
            messages.append(f"{key}: this config cannot be set by teams on this cluster (allowed: {allowed}).")
            continue
        if isinstance(value, (dict, list)) or value is None:
            messages.append(f"{key}: the value must be a string or a number.")
            continue
        messages.extend(f"{key}: {problem}" for problem in _check_value(normalize_config_value(value), rule))
    isr = configs.get("min.insync.replicas") if isinstance(configs, Mapping) else None
    if replication_factor and isr is not None and str(isr).lstrip("-").isdigit() and int(isr) > replication_factor:
        messages.append(f"min.insync.replicas: must not exceed the replication factor ({replication_factor}), "
                        "or no write could ever succeed.")
    return messages


def _check_value(value: str, rule: dict) -> list[str]:
    if "choices" in rule:
        if value not in rule["choices"]:
            return [f"must be one of {', '.join(rule['choices'])}; got {value!r}."]
        return []
    try:
        number = int(value)
    except ValueError:
        return [f"must be a whole number; got {value!r}."]
    low, high = rule.get("min"), rule.get("max")
    if low is not None and number < low:
        return [f"must be at least {low:,}; got {number:,}.".replace(",", " ")]
    if high is not None and number > high:
        return [f"must be at most {high:,}; got {number:,}.".replace(",", " ")]
    return []


def describe_rule(rule: dict) -> str:
    """A short human text of one config rule, shown beside the form field."""
    if "choices" in rule:
        return "one of " + ", ".join(rule["choices"])
    low, high = rule.get("min"), rule.get("max")
    return f"{low} to {high}" if low is not None and high is not None else f"at least {low}" if low is not None \
        else f"at most {high}"


def check_policy_definition(policy) -> Errors:
    """Operators edit policies in the admin; refuse one that no topic could satisfy."""
    errors: Errors = {}
    if "{team}" not in policy.name_pattern:
        _add(errors, "name_pattern", "The pattern must contain {team} so that teams own their names.")
    try:
        name_pattern_for(policy.name_pattern, "team")
    except re.error as exc:
        _add(errors, "name_pattern", f"Not a valid regular expression: {exc}.")
    if policy.min_partitions > policy.max_partitions:
        _add(errors, "max_partitions", "Must be at least the minimum.")
    if not policy.min_partitions <= policy.default_partitions <= policy.max_partitions:
        _add(errors, "default_partitions", "Must lie between the minimum and the maximum.")
    allowed = policy.allowed_replication_factors or []
    if allowed and policy.default_replication_factor not in allowed:
        _add(errors, "default_replication_factor", "Must be one of the allowed replication factors.")
    modes = set(COMPATIBILITY_MODES)
    default_mode = getattr(policy, "default_compatibility", "BACKWARD")
    forbidden = set(getattr(policy, "forbidden_compatibilities", []) or [])
    if default_mode not in modes:
        _add(errors, "default_compatibility", f"Choose one of {', '.join(sorted(modes))}.")
    elif default_mode in forbidden:
        _add(errors, "default_compatibility", "The default mode cannot be one of the forbidden modes.")
    if forbidden - modes:
        _add(errors, "forbidden_compatibilities", f"Unknown modes: {', '.join(sorted(forbidden - modes))}.")
    if not isinstance(policy.config_rules, dict):
        _add(errors, "config_rules", "Must be an object of config names to rules.")
    else:
        for key, rule in policy.config_rules.items():
            if not isinstance(rule, dict) or not ({"choices"} & rule.keys() or {"min", "max"} & rule.keys()):
                _add(errors, "config_rules", f"{key}: a rule needs 'choices' or 'min'/'max'.")
        if isinstance(policy.default_configs, dict) and not errors.get("config_rules"):
            for message in check_configs(policy.default_configs, rules=policy.config_rules):
                _add(errors, "default_configs", message)
    return errors
