"""What changed between two JSON Schemas, and which changes make one reject data the other accepts.

Only the structure people edit is followed: "properties" (recursively), "items", "required", "type", "enum",
"default", "description", "additionalProperties" and the numeric/length bounds, through local "$ref"s.
Composition keywords (allOf/anyOf/oneOf, if/then/else) are not compared; a registry may also judge
open content models more strictly than these reasons do (see ``reasons``).
"""

from __future__ import annotations

import json

from ._types import Change, FieldInfo

_MISSING = object()
_ANY: dict = {}
_NOT_SIBLINGS = frozenset({"$ref", "$schema", "$id", "$defs", "definitions", "$comment", "title"})
_NOTHING: dict = {"not": {}}
_UPPER = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_LOWER = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")


def _resolve(node: object, root: object, depth: int = 0) -> dict:
    """The schema object at ``node``, following local "$ref"s; True/False become {} / {"not": {}}.

    A bare ``{"$ref": ...}`` resolves to the very object referred to, so recursive schemas revisit the same
    objects and the walkers' ``seen`` sets stop them.
    """
    if node is True or node is None or not isinstance(node, dict | bool):
        return _ANY
    if node is False:
        return _NOTHING
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#") and depth < 20:
        target = root
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict | bool):
            resolved = _resolve(target, root, depth + 1)
            siblings = {k: v for k, v in node.items() if k not in _NOT_SIBLINGS}
            return {**resolved, **siblings} if siblings else resolved
    return node


def types_of(node: dict) -> str:
    """``string`` or ``[null, string]``; ``any`` when "type" is absent (an enum/const's type is not guessed)."""
    t = node.get("type")
    if isinstance(t, list):
        return "[" + ", ".join(sorted(str(x) for x in t)) + "]"
    return str(t) if t is not None else "any"


def _type_set(node: dict) -> set[str] | None:
    t = node.get("type")
    if t is None:
        return None
    return {str(x) for x in t} if isinstance(t, list) else {str(t)}


def _too_deep(path: str) -> bool:
    """A guard for recursive "$ref"s that carry sibling keywords (those resolve to a fresh object each time)."""
    return path.count(".") + path.count("[]") > 64


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _field(node: dict) -> FieldInfo:
    return FieldInfo(types_of(node), "default" in node, node.get("default"))


class _Differ:
    def __init__(self, old_root: object, new_root: object) -> None:
        self.roots = (old_root, new_root)
        self.changes: list[Change] = []
        self.seen: set[tuple[int, int]] = set()

    def add(self, kind: str, path: str, old: object = None, new: object = None) -> None:
        self.changes.append(Change(kind, path, old, new))

    def walk(self, old_node: object, new_node: object, path: str) -> None:
        old, new = _resolve(old_node, self.roots[0]), _resolve(new_node, self.roots[1])
        if (id(old), id(new)) in self.seen or _too_deep(path):
            return
        self.seen.add((id(old), id(new)))
        if types_of(old) != types_of(new):
            self.add("type_changed", path, types_of(old), types_of(new))
        self.value("default", old, new, path)
        if old.get("description") != new.get("description"):
            self.add("doc_changed", path, old.get("description"), new.get("description"))
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if isinstance(old_enum, list) and isinstance(new_enum, list):
            for value in new_enum:
                if value not in old_enum:
                    self.add("symbol_added", path, new=json.dumps(value))
            for value in old_enum:
                if value not in new_enum:
                    self.add("symbol_removed", path, old=json.dumps(value))
        old_req, new_req = set(old.get("required") or ()), set(new.get("required") or ())
        for name in sorted(new_req - old_req):
            self.add("required_added", _join(path, name))
        for name in sorted(old_req - new_req):
            self.add("required_removed", _join(path, name))
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        if isinstance(old_props, dict) and isinstance(new_props, dict):
            for name in old_props:
                if name not in new_props:
                    self.add("field_removed", _join(path, name), old=_field(_resolve(old_props[name], self.roots[0])))
                else:
                    self.walk(old_props[name], new_props[name], _join(path, name))
            for name in new_props:
                if name not in old_props:
                    self.add("field_added", _join(path, name), new=_field(_resolve(new_props[name], self.roots[1])))
        if isinstance(old.get("items"), dict | bool) and isinstance(new.get("items"), dict | bool):
            self.walk(old["items"], new["items"], path + "[]")

    def value(self, key: str, old: dict, new: dict, path: str) -> None:
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if before is _MISSING and after is not _MISSING:
            self.add(f"{key}_added", path, new=after)
        elif after is _MISSING and before is not _MISSING:
            self.add(f"{key}_removed", path, old=before)
        elif before != after:
            self.add(f"{key}_changed", path, before, after)


def diff(old: object, new: object) -> list[Change]:
    differ = _Differ(old, new)
    differ.walk(old, new, "")
    return differ.changes


# --- compatibility -------------------------------------------------------------------------------------------

_ROLES = {
    "BACKWARD": ("the new schema", "old events", "consumers validating with the new schema would reject them"),
    "FORWARD": ("the old schema", "new events", "consumers still validating with the old schema would reject them"),
}


class _Compat:
    """Finds what the reader schema rejects that the writer schema allowed (data written under the writer)."""

    def __init__(self, reader_root: object, writer_root: object, direction: str) -> None:
        self.roots = (reader_root, writer_root)
        self.direction = direction
        self.reader, self.data, self.effect = _ROLES[direction]
        self.reasons: list[str] = []
        self.seen: set[tuple[int, int]] = set()

    def say(self, path: str, text: str) -> None:
        self.reasons.append(f"{path or 'The top-level value'}: {text}; {self.effect}.")

    def check(self, reader_node: object, writer_node: object, path: str) -> None:
        reader, writer = _resolve(reader_node, self.roots[0]), _resolve(writer_node, self.roots[1])
        if (id(reader), id(writer)) in self.seen or _too_deep(path):
            return
        self.seen.add((id(reader), id(writer)))
        r_types, w_types = _type_set(reader), _type_set(writer)
        if r_types is not None:
            allowed = r_types | ({"integer"} if "number" in r_types else set())
            extra = sorted(w_types - allowed) if w_types is not None else []
            if w_types is None:
                self.say(path, f"{self.data} may hold values of any type, while {self.reader} allows only "
                               f"{types_of(reader)}")
            elif extra:
                self.say(path, f"{self.data} may hold {' or '.join(extra)} values, which {self.reader} does not "
                               f"allow (type {types_of(reader)})")
        self.required(reader, writer, path)
        r_enum, w_enum = reader.get("enum"), writer.get("enum")
        if isinstance(r_enum, list) and not isinstance(w_enum, list):
            self.say(path, f"{self.reader} now allows only the values listed in \"enum\", while {self.data} could "
                           "hold any value")
        elif isinstance(r_enum, list):
            lost = [json.dumps(v) for v in w_enum if v not in r_enum]
            if lost:
                self.say(path, f"{self.data} may hold the value(s) {', '.join(lost)}, which {self.reader} does not "
                               "list in \"enum\"")
        self.bounds(reader, writer, path)
        self.properties(reader, writer, path)
        if isinstance(reader.get("items"), dict | bool) and isinstance(writer.get("items"), dict | bool):
            self.check(reader["items"], writer["items"], path + "[]")

    def required(self, reader: dict, writer: dict, path: str) -> None:
        r_req, w_req = set(reader.get("required") or ()), set(writer.get("required") or ())
        for name in sorted(r_req - w_req):
            if self.direction == "BACKWARD":
                self.say(_join(path, name), "is now required, but old events may not have it")
            else:
                self.say(_join(path, name), "is no longer required, so new events may leave it out, but the old "
                                            "schema requires it")

    def bounds(self, reader: dict, writer: dict, path: str) -> None:
        for key in _UPPER + _LOWER:
            limit, before = reader.get(key), writer.get(key)
            if not isinstance(limit, int | float) or isinstance(limit, bool):
                continue
            tighter = before is None or (limit < before if key in _UPPER else limit > before)
            if tighter:
                self.say(path, f"{self.reader} sets {key} to {limit} (was {before if before is not None else 'unset'})"
                               f", so {self.data} may fall outside it")
        if reader.get("pattern") and reader.get("pattern") != writer.get("pattern"):
            self.say(path, f"{self.reader} requires the pattern {reader['pattern']!r}, which {self.data} were "
                           "not held to")

    def properties(self, reader: dict, writer: dict, path: str) -> None:
        r_props, w_props = reader.get("properties") or {}, writer.get("properties") or {}
        if not isinstance(r_props, dict) or not isinstance(w_props, dict):
            return
        closed = reader.get("additionalProperties") is False
        for name in w_props:
            if name in r_props:
                self.check(r_props[name], w_props[name], _join(path, name))
            elif closed:
                self.say(_join(path, name), f"{self.data} may have this property, but {self.reader} does not list "
                                            "it and sets \"additionalProperties\": false")
            elif isinstance(reader.get("additionalProperties"), dict):
                self.check(reader["additionalProperties"], w_props[name], _join(path, name))
        if closed and writer.get("additionalProperties") is not False:
            self.say(path, f"{self.reader} sets \"additionalProperties\": false, but {self.data} could carry "
                           "properties it does not list")


def reasons(old: object, new: object, direction: str) -> list[str]:
    reader, writer = (new, old) if direction == "BACKWARD" else (old, new)
    compat = _Compat(reader, writer, direction)
    compat.check(reader, writer, "")
    return compat.reasons
