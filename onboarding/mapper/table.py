"""The mappings table, kept in a compacted topic (MAPPER_TABLE_TOPIC): one row per live mapping.

Key = the mapping id (``<team>.<name>``), value = the row as JSON, a tombstone removes the mapping. The row is
what the portal's ``mapping_table_row(version)`` gives::

    {"id", "version", "source_topic", "target_topic", "source_subject", "target_subject", "target_schema_id",
     "rules": [...], "code_tables": {name: {"version", "entries", "default"}}, "dlq_topic"}

The rules arrive with their code tables' defaults already filled in (the portal's ``with_table_defaults``). A row
is compiled once per version when it is read (``onboarding.mapping.compiler``); a row that is not valid,
or whose rules do not compile, is kept as *broken*: every event of its source goes to its dead-letter topic with
the reason, so a team sees why nothing arrives instead of losing events.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from onboarding.mapping.compiler import CompiledMapping, compile_mapping
from onboarding.mapping.rules import RuleFormatError, rules_from_json
from onboarding.platform.compacted import TableReader

logger = logging.getLogger(__name__)

_TEXT_FIELDS = ("id", "source_topic", "target_topic", "dlq_topic")


class RowError(ValueError):
    """A table record that is not a mapping row."""


@dataclass(frozen=True)
class MappingRow:
    id: str
    version: int
    source_topic: str
    target_topic: str
    dlq_topic: str
    target_schema_id: int | None
    rules: tuple = ()
    code_tables: dict = field(default_factory=dict, compare=False)
    raw: bytes = field(default=b"", repr=False)
    # Built once per version at load: a mapping runs for every event of its source.
    compiled: CompiledMapping | None = field(default=None, init=False, repr=False, compare=False)
    broken: str | None = field(default=None, init=False, compare=False)
    headers: tuple = field(default=(), init=False, repr=False, compare=False)  # what every output of it carries

    def __post_init__(self):
        try:
            rules = rules_from_json(list(self.rules))
            compiled = compile_mapping(rules, library_tables(self.code_tables))
        except RuleFormatError as exc:
            object.__setattr__(self, "broken", f"mapping {self.id} version {self.version} does not compile: {exc}")
        else:
            object.__setattr__(self, "compiled", compiled)
        object.__setattr__(self, "headers", (("map.mapping", self.id), ("map.version", str(self.version)),
                                             ("map.source.topic", self.source_topic)))
        if self.target_schema_id is None and self.broken is None:
            object.__setattr__(self, "broken", f"mapping {self.id} version {self.version} has no canonical schema id")

    @classmethod
    def from_json(cls, data: object, raw: bytes = b"") -> MappingRow:
        if not isinstance(data, dict):
            raise RowError("a mapping row must be a JSON object")
        for name in _TEXT_FIELDS:
            if not isinstance(data.get(name), str) or not data[name]:
                raise RowError(f"{name} must be a non-empty string")
        version, schema_id = data.get("version"), data.get("target_schema_id")
        if not isinstance(version, int) or isinstance(version, bool):
            raise RowError("version must be a whole number")
        if schema_id is not None and (not isinstance(schema_id, int) or isinstance(schema_id, bool)):
            raise RowError("target_schema_id must be a whole number or null")
        if not isinstance(data.get("rules", []), list):
            raise RowError("rules must be a list")
        tables = data.get("code_tables") or {}
        if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
            raise RowError("code_tables must map names to objects")
        return cls(id=data["id"], version=version, source_topic=data["source_topic"],
                   target_topic=data["target_topic"], dlq_topic=data["dlq_topic"], target_schema_id=schema_id,
                   rules=tuple(data.get("rules", [])), code_tables=tables, raw=raw)


def library_tables(code_tables: dict) -> dict[str, dict]:
    """The row's code tables in the form the function library reads: name -> {code: value}."""
    return {name: dict(table.get("entries") or {}) for name, table in code_tables.items()}


def encode_row(row: dict) -> bytes:
    """The record value for a row (the reconciler's side): stable bytes, so an unchanged row is not rewritten."""
    return json.dumps(row, sort_keys=True, separators=(",", ":")).encode("utf-8")


class MappingTable:
    """Latest row per mapping id; tombstones (and unreadable records) delete."""

    def __init__(self):
        self._rows: dict[str, MappingRow] = {}
        self.invalid: dict[str, str] = {}  # key -> why its latest record could not be read, for operators
        self._by_source: dict[str, list[MappingRow]] | None = None

    def apply(self, message) -> bool:
        """Apply one table record; True if the table changed."""
        raw_key = message.key()
        if raw_key is None:
            logger.warning("mappings record without key at offset %s ignored", message.offset())
            return False
        key = raw_key.decode("utf-8", errors="replace")
        value = message.value()
        if value is None:
            self.invalid.pop(key, None)
            return self._drop(key)
        current = self._rows.get(key)
        if current is not None and current.raw == value:
            return False  # the same row again (a rewrite): no recompiling
        try:
            row = MappingRow.from_json(json.loads(value), raw=value)
            if row.id != key:
                raise RowError(f"id {row.id!r} differs from the record key")
        except ValueError as exc:  # RowError, bad JSON
            # A newer unreadable value supersedes the older row: mapping with a version its owner replaced
            # would be worse than not mapping at all.
            logger.error("mappings record %r at offset %s is invalid: %s", key, message.offset(), exc)
            self.invalid[key] = str(exc)
            return self._drop(key)
        self.invalid.pop(key, None)
        self._rows[key] = row
        self._by_source = None
        if row.broken:
            logger.error("%s", row.broken)
        return True

    def _drop(self, key: str) -> bool:
        self._by_source = None
        return self._rows.pop(key, None) is not None

    def get(self, mapping_id: str) -> MappingRow | None:
        return self._rows.get(mapping_id)

    def all(self) -> list[MappingRow]:
        return sorted(self._rows.values(), key=lambda row: row.id)

    def rows_for(self, source_topic: str) -> list[MappingRow]:
        if self._by_source is None:
            by_source: dict[str, list[MappingRow]] = {}
            for row in self.all():
                by_source.setdefault(row.source_topic, []).append(row)
            self._by_source = by_source
        return self._by_source.get(source_topic, [])

    def source_topics(self) -> set[str]:
        return {row.source_topic for row in self._rows.values()}


class MappingTableReader(TableReader):
    """Reads the mappings topic from the beginning into a MappingTable, then follows it (every mapper sees every
    row: see platform.compacted.CompactedTableReader)."""

    def __init__(self, topic: str, kafka_config: dict, table: MappingTable | None = None, *,
                 group_id: str | None = None):
        super().__init__(topic, kafka_config, table or MappingTable(), what="mappings", group_id=group_id)
