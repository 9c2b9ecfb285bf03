"""The mapper's row of one mapping version: what the mapping reconciler publishes to the mapper's compacted
table, keyed by the mapping's id. The mapper never reads Postgres, so the row carries everything it needs: the
rules as data, the code tables they name (at the versions the mapping was checked with), the subjects and the
registry id of the canonical schema version it writes with, and its dead-letter topic."""

from __future__ import annotations

from onboarding.mapping.rules import FieldRule, rules_from_json, rules_to_json
from onboarding.models import CodeTableVersion, MappingVersion


def with_table_defaults(rules: list[FieldRule], tables: dict[str, CodeTableVersion]) -> list[FieldRule]:
    """A ``code`` rule without its own ``args.default`` takes its table's default, if the table has one; the
    checks, the preview and the mapper's row all read the rules this way, so the mapper needs no table logic."""
    out = []
    for rule in rules:
        table = tables.get(rule.args.get("table")) if rule.fn == "code" else None
        if table is not None and table.has_default and "default" not in rule.args:
            rule = FieldRule(rule.target, rule.sources, rule.fn, {**rule.args, "default": table.default})
        out.append(rule)
    return out


def _pinned(version: MappingVersion) -> dict[str, CodeTableVersion]:
    return {tv.table.name: tv for tv in version.code_tables.select_related("table").order_by("table__name")}


def code_tables_of(version: MappingVersion) -> dict[str, dict]:
    """name -> {"version", "entries", "default"} of the code table versions the mapping version pins."""
    return {name: {"version": tv.number, "entries": dict(tv.entries), "default": tv.default if tv.has_default else None}
            for name, tv in _pinned(version).items()}


def mapping_table_row(version: MappingVersion) -> dict:
    mapping = version.mapping
    canonical = version.canonical_schema_version
    return {
        "id": mapping.mapping_id,
        "version": version.number,
        "source_topic": mapping.source_topic.name,
        "target_topic": mapping.canonical_topic.name,
        "source_subject": version.source_schema_version.schema.subject,
        "target_subject": canonical.schema.subject,
        "target_schema_id": canonical.registry_id,
        # the stored rules with table defaults filled in (``with_table_defaults``), in the rule format's JSON
        "rules": rules_to_json(with_table_defaults(rules_from_json(list(version.rules)), _pinned(version))),
        "code_tables": code_tables_of(version),
        "dlq_topic": mapping.dlq_topic,
    }
