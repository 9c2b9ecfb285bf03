"""The mapper's row of one mapping version: what the mapping reconciler publishes to the mapper's compacted
table, keyed by the mapping's id. The mapper never reads Postgres, so the row carries everything it needs: the
rules as data, the code tables they name (at the versions the mapping was checked with), the subjects and the
registry id of the canonical schema version it writes with, and its dead-letter topic."""

from __future__ import annotations

from onboarding.models import MappingVersion


def code_tables_of(version: MappingVersion) -> dict[str, dict]:
    """name -> {"version", "entries", "default"} of the code table versions the mapping version pins."""
    return {tv.table.name: {"version": tv.number, "entries": dict(tv.entries),
                            "default": tv.default if tv.has_default else None}
            for tv in version.code_tables.select_related("table").order_by("table__name")}


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
        "rules": list(version.rules),
        "code_tables": code_tables_of(version),
        "dlq_topic": mapping.dlq_topic,
    }
