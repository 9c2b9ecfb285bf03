"""Whether a decoded JSON value fits an Avro type, listing every mismatch with its path.

Used for sample events (where a union value may be written Avro-JSON style as ``{"string": "x"}`` or plainly)
and for field defaults (always plain; Avro's Java parser accepts a default matching any branch of a union, so
this does too, although the spec asks for the first branch).
"""

from __future__ import annotations

from ._avro_model import AType, describe
from ._common import join_path, show_value, suggest
from ._types import EventProblem

_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_JSON_KINDS = {
    "record": (dict,), "map": (dict,), "array": (list,), "string": (str,), "bytes": (str,), "enum": (str,),
    "fixed": (str,), "int": (int,), "long": (int,), "float": (int, float), "double": (int, float),
    "boolean": (bool,), "null": (type(None),),
}


def check_value(t: AType, value: object, path: str = "$", *, defaults: bool = False) -> list[EventProblem]:
    """Every reason ``value`` does not fit ``t``; an empty list means it fits."""
    out: list[EventProblem] = []
    _check(t, value, path, out, defaults)
    return out


def _expected(t: AType) -> str:
    return f"one of {describe(t)}" if t.kind == "union" else describe(t)


def _check(t: AType, value: object, path: str, out: list[EventProblem], defaults: bool) -> None:
    kind = t.kind
    if kind == "unknown":
        return
    if kind == "union":
        _union(t, value, path, out, defaults)
        return
    if not _fits_json_kind(kind, value):
        out.append(EventProblem(path, f"expected {describe(t)}, got {show_value(value)}"))
        return
    if kind in _RANGES:
        low, high = _RANGES[kind]
        if not low <= value <= high:
            out.append(EventProblem(path, f"{value} is out of range for {kind} ({low} to {high})"))
    elif kind in ("bytes", "fixed") and any(ord(c) > 255 for c in value):
        out.append(EventProblem(path, f"{kind} values are written as a string of characters \\u0000-\\u00ff"))
    elif kind == "fixed" and len(value) != t.size:
        out.append(EventProblem(path, f"fixed {t.name} needs exactly {t.size} bytes, got {len(value)}"))
    elif kind == "enum" and value not in t.symbols:
        allowed = ", ".join(t.symbols)
        out.append(EventProblem(path, f"{value!r} is not a symbol of enum {t.name} (allowed: {allowed})"
                                      f"{suggest(value, t.symbols)}"))
    elif kind == "array":
        for i, item in enumerate(value):
            _check(t.items, item, join_path(path, i), out, defaults)
    elif kind == "map":
        for key, item in value.items():
            _check(t.items, item, join_path(path, key), out, defaults)
    elif kind == "record":
        _record(t, value, path, out, defaults)


def _fits_json_kind(kind: str, value: object) -> bool:
    kinds = _JSON_KINDS.get(kind)
    if kinds is None:
        return True
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, kinds)


def _record(t: AType, value: dict, path: str, out: list[EventProblem], defaults: bool) -> None:
    names = [f.name for f in t.fields]
    for f in t.fields:
        where = join_path(path, f.name)
        if f.name in value:
            _check(f.type, value[f.name], where, out, defaults)
        elif not f.has_default:
            out.append(EventProblem(where, "missing required field (no default)"))
    for key in value:
        if key not in names:
            out.append(EventProblem(join_path(path, key), f"unknown field: record {t.name} has no field {key!r}"
                                                          f"{suggest(key, names)}"))


def _branch_names(b: AType) -> set[str]:
    if b.kind in ("record", "enum", "fixed"):
        return {b.fullname, b.name}
    return {b.kind}


def _union(t: AType, value: object, path: str, out: list[EventProblem], defaults: bool) -> None:
    if not defaults and isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        for branch in t.branches:
            if key in _branch_names(branch):
                _check(branch, inner, join_path(path, key) if branch.kind != "null" else path, out, defaults)
                return
    attempts = []
    for branch in t.branches:
        errors: list[EventProblem] = []
        _check(branch, value, path, errors, defaults)
        if not errors:
            return
        attempts.append((branch, errors))
    plausible = [(b, e) for b, e in attempts if _fits_json_kind(b.kind, value) and b.kind != "unknown"]
    if len(plausible) == 1:
        out.extend(plausible[0][1])
    else:
        out.append(EventProblem(path, f"expected {_expected(t)}, got {show_value(value)}"))
