"""The resolved model of an Avro schema (``AType``, ``AField``) that the reader builds and the diff, the
value checks and the field paths read; a module of its own so its readers need not import the reader."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
NAMED = ("record", "enum", "fixed")
_COMPLEX = ("record", "error", "enum", "array", "map", "fixed")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(eq=False)
class AField:
    name: str
    type: AType
    has_default: bool = False
    default: object = None
    doc: str | None = None
    aliases: tuple[str, ...] = ()
    path: str = ""  # where it sits in the schema JSON, e.g. fields[2]
    label: str = ""  # dotted field names from the top record, e.g. address.zip


@dataclass(eq=False)
class AType:
    """One resolved Avro type; named types are shared objects, so recursive schemas form a graph."""

    kind: str  # a primitive, record, enum, fixed, array, map, union, or unknown
    name: str = ""
    fullname: str = ""
    logical: str | None = None
    fields: list[AField] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    enum_default: str | None = None
    size: int | None = None
    items: AType | None = None  # array items or map values
    branches: list[AType] = field(default_factory=list)
    aliases: tuple[str, ...] = ()
    doc: str | None = None
    extra: str = ""  # logical type details, e.g. decimal precision


def describe(t: AType) -> str:
    """A short type description used in messages and to compare types: ``[null, string]``, ``record Address``."""
    if t.kind in PRIMITIVES:
        return f"{t.kind} ({t.logical}{t.extra})" if t.logical else t.kind
    if t.kind == "fixed":
        base = f"fixed {t.name}({t.size})"
        return f"{base} ({t.logical}{t.extra})" if t.logical else base
    if t.kind in ("record", "enum"):
        return f"{t.kind} {t.name}"
    if t.kind == "array":
        return f"array<{describe(t.items)}>"
    if t.kind == "map":
        return f"map<{describe(t.items)}>"
    if t.kind == "union":
        return "[" + ", ".join(describe(b) for b in t.branches) + "]"
    return t.name or "unknown"


def short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _jpath(base: str, suffix: str) -> str:
    if suffix.startswith("["):
        return base + suffix
    return f"{base}.{suffix}" if base else suffix
