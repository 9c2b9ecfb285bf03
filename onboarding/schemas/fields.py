"""The fields of a schema, flattened for the catalogue's search: path, name, documentation and type.

Pure code (no database): the catalogue stores what ``extract_fields`` returns for the latest version of
every live schema, so people can find a topic by a field's name or by the words of its documentation.

- Avro is read from its JSON: record fields (nested records included), array items (``[]``), map values
  (``{}``) and union branches; a named type is expanded once, so recursive schemas end.
- JSON Schema: ``properties`` (nested), ``items``/``prefixItems``, ``additionalProperties``, the
  ``allOf``/``anyOf``/``oneOf`` branches, and local ``$ref`` to ``#/$defs/...`` or ``#/definitions/...``;
  a field's documentation is its ``title`` and ``description``.
- Protobuf: every message's fields, qualified by the message (comments carry no structure, so no docs).

Text that cannot be read gives no fields rather than an error: the registry accepted it, and search
must not break on a schema the local checks cannot parse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_FIELDS = 2_000  # per schema: a generated schema with more adds noise, not findability
MAX_DEPTH = 32
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class FieldEntry:
    """One field: ``path`` from the top (``patient.birth_date``, ``visits[].code``), its own ``name``,
    its documentation (may be empty) and a short type (``string``, ``record Address``, ``array``)."""

    path: str
    name: str
    doc: str
    type: str


def identifier_words(identifier: str) -> str:
    """``birthDate`` / ``birth_date`` / ``payments.card-authorised`` as plain words, so that a search
    for "birth date" finds them: full-text search sees words, not identifiers."""
    words = []
    for chunk in _WORD_SPLIT.split(identifier or ""):
        words.extend(part.lower() for part in _CAMEL.split(chunk) if part)
    return " ".join(words)


def extract_fields(text: str, fmt: str) -> list[FieldEntry]:
    """The fields of one schema text in ``fmt`` (AVRO, JSON or PROTOBUF); [] when it cannot be read."""
    try:
        if fmt == "PROTOBUF":
            return _protobuf_fields(text)  # SchemaTextError (a ValueError) when it cannot be parsed
        document = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return []
    out: list[FieldEntry] = []
    try:
        if fmt == "JSON":
            _JsonSchemaWalk(document, out).walk(document, "", 0, frozenset())
        else:
            _avro_walk(document, "", out, set(), 0)
    except (_Full, RecursionError):
        pass
    return out[:MAX_FIELDS]


class _Full(Exception):
    """Enough fields collected."""


def _add(out: list[FieldEntry], entry: FieldEntry) -> None:
    out.append(entry)
    if len(out) >= MAX_FIELDS:
        raise _Full


# ----------------------------------------------------------------------------------------------- Avro

def _avro_type_label(schema) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "|".join(_avro_type_label(branch) for branch in schema)
    if isinstance(schema, dict):
        kind = schema.get("type")
        if isinstance(kind, (dict, list)):
            return _avro_type_label(kind)
        if kind in ("record", "error", "enum", "fixed"):
            return f"{kind} {schema.get('name', '')}".strip()
        if kind == "array":
            return "array"
        if kind == "map":
            return "map"
        if schema.get("logicalType"):
            return f"{kind} ({schema['logicalType']})"
        return str(kind)
    return ""


def _avro_walk(schema, prefix: str, out: list[FieldEntry], seen: set[str], depth: int) -> None:
    """Fields below ``schema``; ``seen`` holds the named types already expanded (recursion ends there)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(schema, list):
        for branch in schema:
            _avro_walk(branch, prefix, out, seen, depth + 1)
        return
    if not isinstance(schema, dict):
        return  # a primitive or a reference to a named type expanded elsewhere
    kind = schema.get("type")
    if isinstance(kind, (dict, list)):
        _avro_walk(kind, prefix, out, seen, depth + 1)
    elif kind in ("record", "error"):
        name = schema.get("name")
        if isinstance(name, str):
            if name in seen:
                return
            seen.add(name)
        for fld in schema.get("fields") or []:
            if not isinstance(fld, dict) or not isinstance(fld.get("name"), str):
                continue
            path = f"{prefix}.{fld['name']}" if prefix else fld["name"]
            doc = fld.get("doc") if isinstance(fld.get("doc"), str) else ""
            _add(out, FieldEntry(path=path, name=fld["name"], doc=doc.strip(), type=_avro_type_label(fld.get("type"))))
            _avro_walk(fld.get("type"), path, out, seen, depth + 1)
    elif kind == "array":
        _avro_walk(schema.get("items"), f"{prefix}[]", out, seen, depth + 1)
    elif kind == "map":
        _avro_walk(schema.get("values"), f"{prefix}{{}}", out, seen, depth + 1)


# ---------------------------------------------------------------------------------------- JSON Schema

_BRANCHES = ("allOf", "anyOf", "oneOf")


class _JsonSchemaWalk:
    def __init__(self, root, out: list[FieldEntry]):
        self.root = root
        self.out = out

    def resolve(self, node, refs: frozenset) -> tuple[object, frozenset]:
        """Follow local ``$ref`` chains (``#/$defs/x``, ``#/definitions/x``); a cycle resolves to nothing."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in refs or not ref.startswith("#/"):
                return None, refs
            refs = refs | {ref}
            target = self.root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            node = target
        return node, refs

    def walk(self, node, prefix: str, depth: int, refs: frozenset) -> None:
        node, refs = self.resolve(node, refs)
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            return
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                path = f"{prefix}.{name}" if prefix else name
                resolved, _ = self.resolve(sub, refs)
                _add(self.out, FieldEntry(path=path, name=name, doc=_json_doc(sub, resolved),
                                          type=_json_type(sub, resolved)))
                self.walk(sub, path, depth + 1, refs)
        items = node.get("items")
        for item in items if isinstance(items, list) else [items]:
            self.walk(item, f"{prefix}[]", depth + 1, refs)
        for item in node.get("prefixItems") or []:
            self.walk(item, f"{prefix}[]", depth + 1, refs)
        if isinstance(node.get("additionalProperties"), dict):
            self.walk(node["additionalProperties"], f"{prefix}{{}}", depth + 1, refs)
        for key in _BRANCHES:
            for branch in node.get(key) or []:
                self.walk(branch, prefix, depth + 1, refs)


def _json_doc(written, resolved) -> str:
    """The property's own title/description, else those of the definition it refers to."""
    for node in (written, resolved):
        if isinstance(node, dict):
            parts = [node.get(k) for k in ("title", "description") if isinstance(node.get(k), str)]
            if parts:
                return ": ".join(p.strip() for p in parts if p.strip())
    return ""


def _json_type(written, resolved) -> str:
    node = resolved if isinstance(resolved, dict) else written
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if isinstance(kind, list):
        kind = "|".join(str(k) for k in kind)
    if kind is None:
        kind = "object" if "properties" in node else ""
    if isinstance(written, dict) and isinstance(written.get("$ref"), str):
        return f"{kind} {written['$ref'].rsplit('/', 1)[-1]}".strip()
    fmt = node.get("format")
    return f"{kind} ({fmt})" if isinstance(fmt, str) and kind else str(kind)


# ------------------------------------------------------------------------------------------- Protobuf

def _protobuf_fields(text: str) -> list[FieldEntry]:
    from onboarding.schemas._protobuf import parse

    pfile = parse(text)
    out = []
    for message_name, message in pfile.messages.items():
        for fld in message.fields:
            out.append(FieldEntry(path=f"{message_name}.{fld.name}", name=fld.name, doc="", type=fld.describe()))
            if len(out) >= MAX_FIELDS:
                return out
    return out
