"""A registered schema's fields as the mapping checks need them: path -> kinds and whether it is required.

``onboarding.schemas.field_paths`` lists the paths with a short type text; this turns that text into kinds
(``string``, ``int``, ``float``, ``bool``, ``null``, ``record``, ``array``, ``map``, ``enum``, ``bytes``) plus a
logical type, and adds what it does not say: which fields are required. Avro: a field without a default whose
type does not allow null; JSON Schema: a property listed in its object's ``required``; Protobuf (proto3): none.
A nested field is required only when its parents are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from onboarding.schemas import _avro
from onboarding.schemas._common import normalise_format
from onboarding.schemas.field_paths import schema_fields

_KIND = {"string": "string", "int": "int", "long": "int", "integer": "int", "float": "float", "double": "float",
         "number": "float", "boolean": "bool", "bool": "bool", "null": "null", "record": "record",
         "object": "record", "array": "array", "map": "map", "enum": "enum", "bytes": "bytes", "fixed": "bytes",
         # protobuf scalar names
         "int32": "int", "int64": "int", "uint32": "int", "uint64": "int", "sint32": "int", "sint64": "int",
         "fixed32": "int", "fixed64": "int", "sfixed32": "int", "sfixed64": "int", "message": "record"}
_LOGICAL = re.compile(r"\(([A-Za-z-]+)")


@dataclass(frozen=True)
class FieldSpec:
    path: str
    kinds: frozenset[str]
    logical: str | None
    required: bool
    type: str  # the type text of field_paths, for messages
    symbols: tuple | None = None  # the allowed values of an enum (Avro enum, JSON Schema "enum")


def fields(text: str, fmt: str) -> dict[str, FieldSpec]:
    """Every field of the schema by path; {} when the text cannot be read."""
    fmt = normalise_format(fmt) or fmt
    listed = schema_fields(text, fmt)
    required, symbols = _required(text, fmt)
    return {f.path: FieldSpec(f.path, _kinds(f.type), _logical(f.type), f.path in required, f.type,
                              symbols.get(f.path)) for f in listed}


def _kinds(type_text: str) -> frozenset[str]:
    kinds = set()
    for branch in re.split(r"[|,\[\]]", type_text):
        word = branch.strip().split(" ")[0].split("<")[0].split("(")[0].strip()
        if word:
            kinds.add(_KIND.get(word, "record" if word[:1].isupper() else "any"))
    return frozenset(kinds or {"any"})


def _logical(type_text: str) -> str | None:
    found = _LOGICAL.search(type_text)
    return found.group(1) if found else None


def _required(text: str, fmt: str) -> tuple[set[str], dict[str, tuple]]:
    """The required paths, and the symbols of enum fields (records and objects only, not inside arrays)."""
    out: set[str] = set()
    symbols: dict[str, tuple] = {}
    try:
        if fmt == "AVRO":
            top, _, _ = _avro.read(json.loads(text))
            _avro_required(top, "", True, out, symbols, 0)
        elif fmt == "JSON":
            root = json.loads(text)
            _json_required(root, root, "", out, 0)
            _json_symbols(root, root, "", symbols, 0)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return set(), {}
    return out, symbols


def _avro_required(t, prefix: str, parent_required: bool, out: set[str], symbols: dict, depth: int) -> None:
    if t is None or depth > 32:
        return
    if t.kind == "union":
        for branch in t.branches:
            _avro_required(branch, prefix, False, out, symbols, depth)
        return
    if t.kind != "record":
        return
    for f in t.fields:
        path = f"{prefix}.{f.name}" if prefix else f.name
        nullable = f.type.kind == "null" or (f.type.kind == "union" and any(b.kind == "null" for b in f.type.branches))
        required = parent_required and not (f.has_default or nullable)
        if required:
            out.add(path)
        enum = next((b for b in (f.type.branches if f.type.kind == "union" else [f.type]) if b.kind == "enum"), None)
        if enum is not None:
            symbols[path] = tuple(enum.symbols)
        _avro_required(f.type, path, required, out, symbols, depth + 1)


def _json_symbols(root, node, prefix: str, symbols: dict, depth: int) -> None:
    node = _json_resolve(root, node)
    if not isinstance(node, dict) or depth > 32:
        return
    for name, sub in (node.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        resolved = _json_resolve(root, sub)
        if isinstance(resolved, dict) and isinstance(resolved.get("enum"), list):
            symbols[path] = tuple(resolved["enum"])
        _json_symbols(root, sub, path, symbols, depth + 1)


def _json_resolve(root, node):
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 32:
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        node, seen = target, seen + 1
    return node


def _json_required(root, node, prefix: str, out: set[str], depth: int) -> None:
    node = _json_resolve(root, node)
    if not isinstance(node, dict) or depth > 32:
        return
    properties = node.get("properties") if isinstance(node.get("properties"), dict) else {}
    for name in node.get("required") or []:
        if isinstance(name, str) and name in properties:
            path = f"{prefix}.{name}" if prefix else name
            out.add(path)
            _json_required(root, properties[name], path, out, depth + 1)
    for branch in node.get("allOf") or []:  # every allOf branch applies, so its required fields do too
        _json_required(root, branch, prefix, out, depth + 1)
