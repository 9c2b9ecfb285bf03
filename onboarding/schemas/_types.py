"""Result types shared by the schema modules.

They live in one private module so the format helpers (``_avro``, ``_jsonschema``, ``_protobuf``) can build them
without importing the public modules that dispatch to those helpers; the public modules re-export them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaProblem:
    """One thing wrong with a schema's text, placed by line/column (text errors) or by path (structure errors)."""

    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        if self.path:
            where.append(f"at {self.path}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class EventProblem:
    """One reason a sample event does not fit its schema; ``path`` is JSONPath-like (``$.address.zip``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_NO_DEFAULT = "no default"


@dataclass(frozen=True)
class FieldInfo:
    """What a field looked like, carried by ``field_added``/``field_removed`` changes so they can be described."""

    type: str
    has_default: bool = False
    default: object = None
    number: int | None = None

    def describe(self) -> str:
        parts = []
        if self.number is not None:
            parts.append(f"number {self.number}")
        parts.append(f"type {self.type}")
        if self.number is None:
            parts.append(f"default {show(self.default)}" if self.has_default else _NO_DEFAULT)
        return ", ".join(parts)


def show(value: object, limit: int = 60) -> str:
    """A value as compact JSON for messages, cut to ``limit`` characters."""
    if isinstance(value, FieldInfo):
        return value.describe()
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TEMPLATES = {
    "field_added": "field {path} added ({new})",
    "field_removed": "field {path} removed (it had {old})",
    "type_changed": "field {path} changed type from {old_raw} to {new_raw}",
    "default_added": "field {path} got a default: {new}",
    "default_removed": "field {path} lost its default (was {old})",
    "default_changed": "default of {path} changed from {old} to {new}",
    "doc_changed": "documentation of {path} changed",
    "symbol_added": "symbol {new_raw} added to {path}",
    "symbol_removed": "symbol {old_raw} removed from {path}",
    "required_added": "{path} is now required",
    "required_removed": "{path} is no longer required",
    "field_number_changed": "field {path} moved from number {old_raw} to {new_raw}",
    "message_added": "message {path} added",
    "message_removed": "message {path} removed",
    "enum_added": "enum {path} added",
    "enum_removed": "enum {path} removed",
    "name_changed": "{path} renamed from {old_raw} to {new_raw}",
}
KINDS = frozenset(_TEMPLATES)


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a schema; ``kind`` is one of ``KINDS``, ``path`` is dotted."""

    kind: str
    path: str
    old: object = None
    new: object = None

    def describe(self) -> str:
        """The change in plain words, e.g. ``field Admission.ward added (type string, no default)``."""
        template = _TEMPLATES.get(self.kind, "{kind} at {path}")
        path = self.path
        if not path:
            template, path = template.replace("field {path}", "{path}"), "the top-level schema"
        return template.format(
            kind=self.kind,
            path=path,
            old=show(self.old),
            new=show(self.new),
            old_raw=self.old,
            new_raw=self.new,
        )
