"""The fields of a schema as paths, with their documentation and type: what the topic page lists, what
sensitive-field tags point at, what masking follows in decoded events, and what the catalogue searches.

Pure code (no database, no network). A path is dotted from the top of the event (``patient.birth_date``);
``[]`` stands for every item of an array (``visits[].code``) and ``{}`` for every value of a map
(``labels{}``). The same convention is used by ``onboarding.schemas.masking``, so a tagged path masks the
value it names in a decoded event.

- Avro is read through the resolved model of ``_avro.read``, so a field whose type names a record defined
  elsewhere in the schema gets that record's fields too; a recursive record is expanded once per branch.
- JSON Schema: ``properties`` (nested), ``items``/``prefixItems``, ``additionalProperties``,
  ``allOf``/``anyOf``/``oneOf`` and local ``$ref`` (``#/$defs/...``, ``#/definitions/...``); a field's
  documentation is its ``title`` and ``description``, else those of the definition it refers to.
- Protobuf: the first top-level message (the one events are), nested message fields included.

Text that cannot be read gives no fields rather than an error: the page shows the rest of the topic, and
search must not break on a schema the registry accepted but the local checks cannot parse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from onboarding.schemas import _avro
from onboarding.schemas._avro import describe
from onboarding.schemas._protobuf import parse

MAX_FIELDS = 2_000  # per schema: a generated schema with more adds noise, not findability
MAX_DEPTH = 32
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class FieldInfo:
    """One field: ``path`` from the top, its own ``name``, documentation (may be empty), a short type and
    its ``depth`` (0 for top-level fields), so a page can indent nested fields."""

    path: str
    name: str
    doc: str
    type: str
    depth: int


class _Full(Exception):
    """Enough fields collected."""


def schema_fields(text: str, fmt: str) -> list[FieldInfo]:
    """Every field of ``text`` in ``fmt`` (AVRO, JSON or PROTOBUF), parents before children; [] when unreadable."""
    out: list[FieldInfo] = []
    try:
        if fmt == "AVRO":

            top, _, _ = _avro.read(json.loads(text))
            _avro_walk(top, "", 0, (), out)
        elif fmt == "JSON":
            root = json.loads(text)
            _JsonWalk(root, out).walk(root, "", 0, frozenset())
        elif fmt == "PROTOBUF":
            _protobuf_fields(text, out)
    except _Full:
        pass
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return []
    return out


def field_paths(text: str, fmt: str) -> set[str]:
    return {f.path for f in schema_fields(text, fmt)}


def identifier_words(identifier: str) -> str:
    """``birthDate`` / ``birth_date`` / ``payments.card-authorised`` as plain words, so that a search
    for "birth date" finds them: full-text search sees words, not identifiers."""
    words = []
    for chunk in _WORD_SPLIT.split(identifier or ""):
        words.extend(part.lower() for part in _CAMEL.split(chunk) if part)
    return " ".join(words)


def _add(out: list[FieldInfo], entry: FieldInfo) -> None:
    out.append(entry)
    if len(out) >= MAX_FIELDS:
        raise _Full


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


# ------------------------------------------------------------------------------------------------ Avro

def _avro_walk(t, prefix: str, depth: int, open_records: tuple[str, ...], out: list[FieldInfo]) -> None:
    """Fields below type ``t``. ``open_records`` are the records being expanded above: a record that
    contains itself (a linked list, a tree) stops there instead of looping."""
    if t is None or depth > MAX_DEPTH:
        return
    if t.kind == "union":
        for branch in t.branches:
            _avro_walk(branch, prefix, depth, open_records, out)
    elif t.kind == "array":
        _avro_walk(t.items, f"{prefix}[]", depth, open_records, out)
    elif t.kind == "map":
        _avro_walk(t.items, f"{prefix}{{}}", depth, open_records, out)
    elif t.kind == "record":
        key = t.fullname or t.name
        if key in open_records:
            return
        for f in t.fields:
            path = _join(prefix, f.name)
            _add(out, FieldInfo(path=path, name=f.name, doc=(f.doc or "").strip(), type=_avro_type(f.type),
                               depth=depth))
            _avro_walk(f.type, path, depth + 1, (*open_records, key), out)


def _avro_type(t) -> str:
    """``_avro.describe``, but a union reads ``null|record Address`` like JSON Schema's list of types."""
    return "|".join(describe(b) for b in t.branches) if t.kind == "union" else describe(t)


# ----------------------------------------------------------------------------------------- JSON Schema

_BRANCHES = ("allOf", "anyOf", "oneOf")


class _JsonWalk:
    def __init__(self, root, out: list[FieldInfo]):
        self.root, self.out = root, out
        self.seen: set[str] = set()

    def resolve(self, node, refs: frozenset):
        """Follow local ``$ref`` chains; a reference already followed on this branch (a cycle) is nothing."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in refs or not ref.startswith("#/"):
                return None, refs
            refs = refs | {ref}
            target = self.root
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
            node = target
        return node, refs

    def walk(self, node, prefix: str, depth: int, refs: frozenset) -> None:
        node, refs = self.resolve(node, refs)
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            return
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                path = _join(prefix, name)
                resolved, _ = self.resolve(sub, refs)
                if path not in self.seen:  # the same property in two oneOf branches is one field
                    self.seen.add(path)
                    _add(self.out, FieldInfo(path=path, name=name, doc=_json_doc(sub, resolved),
                                             type=_json_type(sub, resolved), depth=depth))
                self.walk(sub, path, depth + 1, refs)
        items = node.get("items")
        for item in [*(items if isinstance(items, list) else [items]), *(node.get("prefixItems") or [])]:
            self.walk(item, f"{prefix}[]", depth, refs)
        if isinstance(node.get("additionalProperties"), dict):
            self.walk(node["additionalProperties"], f"{prefix}{{}}", depth, refs)
        for key in _BRANCHES:
            for branch in node.get(key) or []:
                self.walk(branch, prefix, depth, refs)


def _json_doc(written, resolved) -> str:
    """The property's own title/description, else those of the definition it refers to."""
    for node in (written, resolved):
        if isinstance(node, dict):
            parts = [node[k].strip() for k in ("title", "description") if isinstance(node.get(k), str)]
            if any(parts):
                return ": ".join(p for p in parts if p)
    return ""


def _json_type(written, resolved) -> str:
    """``string (date)``, ``array<string>``, ``string|null``; a reference adds the definition's name
    (``object address``)."""
    node = resolved
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if isinstance(kind, list):
        kind = "|".join(str(k) for k in kind)
    if kind is None:
        kind = "object" if "properties" in node else ""
    if isinstance(written, dict) and isinstance(written.get("$ref"), str):
        return f"{kind} {written['$ref'].rsplit('/', 1)[-1]}".strip()
    if kind == "array" and isinstance(node.get("items"), dict) and node["items"].get("type"):
        return f"array<{node['items']['type']}>"
    return f"{kind} ({node['format']})" if isinstance(node.get("format"), str) and kind else str(kind)


# -------------------------------------------------------------------------------------------- Protobuf

def _protobuf_fields(text: str, out: list[FieldInfo]) -> None:
    pfile = parse(text)
    if pfile.top:
        _proto_message(pfile, pfile.top[0], "", 0, (), out)


def _proto_message(pfile, name: str, prefix: str, depth: int, open_messages: tuple[str, ...], out) -> None:
    message = pfile.messages.get(name)
    if message is None or name in open_messages or depth > MAX_DEPTH:
        return
    for f in message.fields:
        path = _join(prefix, f.name)
        _add(out, FieldInfo(path=path, name=f.name, doc="", type=f.describe(), depth=depth))
        resolved = pfile.resolve(f.type, name)
        if resolved and resolved[0] == "message":
            suffix = "{}" if f.key is not None else "[]" if f.label == "repeated" else ""
            _proto_message(pfile, resolved[1], path + suffix, depth + 1, (*open_messages, name), out)
