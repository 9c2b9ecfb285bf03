"""Protobuf: what changed between two files, which changes break readers, and whether a JSON event fits.

Fields are matched by number, because that is what travels on the wire; a field keeping its name under a new
number is reported as moved. Compatibility follows the wire format: a reader ignores fields it does not know,
so adding or removing fields is safe, while changing a number's type is safe only within the groups the
Protocol Buffers documentation lists as interchangeable (int32/uint32/int64/uint64/bool/enum, sint32/sint64,
fixed32/sfixed32, fixed64/sfixed64, string/bytes, bytes/message).
"""

from __future__ import annotations

import base64
import binascii
import re

from ._common import join_path, show_value, suggest
from ._protobuf import SCALARS, PField, PFile, PMessage
from ._types import Change, EventProblem, FieldInfo

_GROUPS = ({"int32", "uint32", "int64", "uint64", "bool", "enum"}, {"sint32", "sint64"}, {"fixed32", "sfixed32"},
           {"fixed64", "sfixed64"}, {"string", "bytes"}, {"bytes", "message"})


def diff(old: PFile, new: PFile) -> list[Change]:
    changes: list[Change] = []
    for name in old.messages:
        if name not in new.messages:
            changes.append(Change("message_removed", name))
    for name in new.messages:
        if name not in old.messages:
            changes.append(Change("message_added", name))
        else:
            changes += _message_diff(old.messages[name], new.messages[name])
    for name, values in old.enums.items():
        if name not in new.enums:
            changes.append(Change("enum_removed", name))
            continue
        now = new.enums[name]
        changes += [Change("symbol_removed", name, old=v) for v in values if v not in now]
        changes += [Change("symbol_added", name, new=v) for v in now if v not in values]
        changes += [Change("field_number_changed", f"{name}.{v}", n, now[v])
                    for v, n in values.items() if v in now and now[v] != n]
    changes += [Change("enum_added", name) for name in new.enums if name not in old.enums]
    return changes


def _message_diff(old: PMessage, new: PMessage) -> list[Change]:
    changes = []
    by_number = {f.number: f for f in new.fields}
    old_numbers = {f.number for f in old.fields}
    unmatched_new = {f.name: f for f in new.fields if f.number not in old_numbers}
    for of in old.fields:
        nf = by_number.get(of.number)
        if nf is None:
            nf = unmatched_new.pop(of.name, None)
            if nf is None:
                changes.append(Change("field_removed", f"{old.name}.{of.name}", old=FieldInfo(of.describe(),
                                                                                              number=of.number)))
                continue
            changes.append(Change("field_number_changed", f"{new.name}.{nf.name}", of.number, nf.number))
        if nf.name != of.name:
            changes.append(Change("name_changed", f"{old.name}.{of.name}", of.name, nf.name))
        changes += _field_diff(of, nf, f"{new.name}.{nf.name}")
    for nf in unmatched_new.values():
        changes.append(Change("field_added", f"{new.name}.{nf.name}", new=FieldInfo(nf.describe(), number=nf.number)))
    return changes


def _field_diff(of: PField, nf: PField, path: str) -> list[Change]:
    if of.type != nf.type or of.key != nf.key:
        return [Change("type_changed", path, of.describe(), nf.describe())]
    if of.label != nf.label:
        if nf.label == "required":
            return [Change("required_added", path)]
        if of.label == "required":
            return [Change("required_removed", path)]
        return [Change("type_changed", path, of.describe(), nf.describe())]
    return []


# --- compatibility -------------------------------------------------------------------------------------------

def _kind(pfile: PFile, f: PField, scope: str) -> str:
    if f.key is not None:
        return "map"
    if f.type in SCALARS:
        return f.type
    found = pfile.resolve(f.type, scope)
    return found[0] if found else "message"


def reasons(old: PFile, new: PFile, direction: str) -> list[str]:
    """Why readers of one version misread data of the other (BACKWARD: new reads old; FORWARD: old reads new)."""
    reader, writer = (new, old) if direction == "BACKWARD" else (old, new)
    effect = ("consumers using the new schema would misread data written with the old one" if direction == "BACKWARD"
              else "consumers still on the old schema would misread data written with the new one")
    out = []
    if old.top and old.top[0] not in new.messages:
        out.append(f"message {old.top[0]}, the first message and so the one events use, was removed or renamed.")
    for name, rmsg in reader.messages.items():
        wmsg = writer.messages.get(name)
        if wmsg is None:
            continue
        written = {f.number: f for f in wmsg.fields}
        written_names = {f.name: f for f in wmsg.fields}
        for rf in rmsg.fields:
            wf = written.get(rf.number)
            path = f"{name}.{rf.name}"
            if wf is None:
                moved = written_names.get(rf.name)
                if moved is not None:
                    out.append(f"{path}: the field moved between numbers {moved.number} and {rf.number}; {effect}, "
                               "which carries it under the other number. Keep the number and reserve old ones.")
                elif rf.label == "required":
                    out.append(f"{path}: is required by the {'new' if direction == 'BACKWARD' else 'old'} schema "
                               f"but missing from the other; {effect}.")
                continue
            rk, wk = _kind(reader, rf, name), _kind(writer, wf, name)
            if rk != wk and not any(rk in g and wk in g for g in _GROUPS):
                old_f, new_f = (wf, rf) if direction == "BACKWARD" else (rf, wf)
                out.append(f"{path}: number {rf.number} changed type from {old_f.describe()} to {new_f.describe()}; "
                           f"the two are encoded differently on the wire, so {effect}.")
            elif wf.label == "repeated" and rf.label != "repeated" and rf.key is None:
                out.append(f"{path}: changed between repeated and single; {effect}: a single field keeps only the "
                           "last of the repeated values.")
    return out


# --- events --------------------------------------------------------------------------------------------------

_INT_RANGES = {"int32": 32, "sint32": 32, "sfixed32": 32, "int64": 64, "sint64": 64, "sfixed64": 64}
_UINT_RANGES = {"uint32": 32, "fixed32": 32, "uint64": 64, "fixed64": 64}
_WELL_KNOWN = {
    "google.protobuf.Timestamp": str, "google.protobuf.Duration": str, "google.protobuf.FieldMask": str,
    "google.protobuf.Struct": dict, "google.protobuf.Any": dict, "google.protobuf.Empty": dict,
    "google.protobuf.ListValue": list, "google.protobuf.Value": object, "google.protobuf.StringValue": str,
    "google.protobuf.BytesValue": str, "google.protobuf.BoolValue": bool,
}
_NUMBER_TEXT = re.compile(r"-?\d+\Z")


def _json_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def check_event(pfile: PFile, event: object) -> list[EventProblem]:
    """Check a proto3-JSON event against the first top-level message (the one the serializer uses)."""
    if not pfile.top:
        return [EventProblem("$", "the schema defines no message to check the event against")]
    name = pfile.top[0]
    if not isinstance(event, dict):
        return [EventProblem("$", f"expected an object for message {name}, got {show_value(event)}")]
    out: list[EventProblem] = []
    _message(pfile, pfile.messages[name], event, "$", out, 0)
    return out


def _message(pfile: PFile, msg: PMessage, value: dict, path: str, out: list[EventProblem], depth: int) -> None:
    by_key = {}
    for f in msg.fields:
        by_key[f.name] = by_key[_json_name(f.name)] = f
    oneofs: dict[str, str] = {}
    for key, item in value.items():
        f = by_key.get(key)
        where = join_path(path, key)
        if f is None:
            out.append(EventProblem(where, f"unknown field: message {msg.name} has no field {key!r}"
                                           f"{suggest(key, [f.name for f in msg.fields])}"))
            continue
        if f.oneof and item is not None:
            if f.oneof in oneofs:
                out.append(EventProblem(where, f"only one field of oneof {f.oneof} may be set ({oneofs[f.oneof]!r} "
                                               "is set too)"))
            oneofs.setdefault(f.oneof, f.name)
        if item is None:
            continue
        if f.key is not None:
            if not isinstance(item, dict):
                out.append(EventProblem(where, f"expected an object (map<{f.key}, {f.type}>), got {show_value(item)}"))
                continue
            for k, v in item.items():
                if f.key != "string" and not (_NUMBER_TEXT.match(k) or (f.key == "bool" and k in ("true", "false"))):
                    out.append(EventProblem(join_path(where, k), f"map key {k!r} is not a {f.key}"))
                _value(pfile, f, msg.name, v, join_path(where, k), out, depth)
        elif f.label == "repeated":
            if not isinstance(item, list):
                out.append(EventProblem(where, f"expected a list (repeated {f.type}), got {show_value(item)}"))
                continue
            for i, v in enumerate(item):
                _value(pfile, f, msg.name, v, join_path(where, i), out, depth)
        else:
            _value(pfile, f, msg.name, item, where, out, depth)
    for f in msg.fields:
        if f.label == "required" and f.name not in value and _json_name(f.name) not in value:
            out.append(EventProblem(join_path(path, f.name), "missing required field"))


def _value(pfile: PFile, f: PField, scope: str, value: object, path: str, out: list[EventProblem], depth: int) -> None:
    t = f.type
    problem = None
    if t in _INT_RANGES or t in _UINT_RANGES:
        number = int(value) if isinstance(value, str) and _NUMBER_TEXT.match(value) else value
        if isinstance(number, bool) or not isinstance(number, int):
            problem = f"expected {t}, got {show_value(value)}"
        elif t in _INT_RANGES and not -(2 ** (_INT_RANGES[t] - 1)) <= number < 2 ** (_INT_RANGES[t] - 1):
            problem = f"{number} is out of range for {t}"
        elif t in _UINT_RANGES and not 0 <= number < 2 ** _UINT_RANGES[t]:
            problem = f"{number} is out of range for {t}"
    elif t in ("float", "double"):
        if isinstance(value, bool) or not (isinstance(value, int | float) or value in ("NaN", "Infinity", "-Infinity")):
            problem = f"expected {t}, got {show_value(value)}"
    elif t in ("bool", "string"):
        if not isinstance(value, bool if t == "bool" else str):
            problem = f"expected {t}, got {show_value(value)}"
    elif t == "bytes":
        if not isinstance(value, str) or not _is_base64(value):
            problem = f"expected bytes as a base64 string, got {show_value(value)}"
    elif t in _WELL_KNOWN:
        kind = _WELL_KNOWN[t]
        if kind is not object and (not isinstance(value, kind) or (kind is str and isinstance(value, bool))):
            problem = f"expected {t} in its JSON form, got {show_value(value)}"
    else:
        problem = _named(pfile, t, scope, value, path, out, depth)
    if problem:
        out.append(EventProblem(path, problem))


def _named(pfile: PFile, t: str, scope: str, value: object, path: str, out: list[EventProblem], depth: int):
    found = pfile.resolve(t, scope)
    if found is None or depth > 64:
        return None  # an imported type this file does not define: nothing to check it against
    kind, name = found
    if kind == "enum":
        values = pfile.enums[name]
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if not isinstance(value, str) or value not in values:
            return f"{value!r} is not a value of enum {name}{suggest(str(value), values)}"
        return None
    if not isinstance(value, dict):
        return f"expected an object (message {name}), got {show_value(value)}"
    _message(pfile, pfile.messages[name], value, path, out, depth + 1)
    return None


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
