"""Avro data written as JSON (the REST body) turned into the Python values fastavro's writer takes.

The body follows the same rules as the portal's sample events (``onboarding/schemas/events.py``): Avro's JSON
encoding, where a union value may be wrapped (``{"string": "x"}``, ``{"com.acme.Address": {...}}``) or written
plainly, and bytes/fixed are strings of characters U+0000-U+00FF, one per byte. fastavro writes Python values,
so this walk (guided by the portal's resolved model, ``AType``) unwraps unions into fastavro's tuple notation
``(branch name, value)``, so the branch the client named is the one written, turns bytes strings into bytes and
fills record fields left out with their defaults. Anything else passes through unchanged; a value that does not
fit is left for fastavro to refuse (when the portal's checks were skipped) rather than guessed at.
"""

from __future__ import annotations

import weakref

from onboarding.schemas._avro_model import NAMED, AType
from onboarding.schemas._avro_values import check_value

# Types whose JSON form is already what fastavro writes (no bytes, fixed or union anywhere inside), so a value of
# one passes untouched: most of a typical event, walked once per schema instead of once per record.
_PLAIN: weakref.WeakKeyDictionary[AType, bool] = weakref.WeakKeyDictionary()


def to_datum(t: AType, value: object, *, default: bool = False) -> object:
    """``value`` (Avro JSON, or a field default when ``default``) as fastavro's writer takes it for type ``t``."""
    if _plain(t):
        return value
    kind = t.kind
    if kind == "union":
        return _union(t, value, default)
    if kind in ("bytes", "fixed") and isinstance(value, str):
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            return value  # fastavro refuses it, with its own message
    if kind == "record" and isinstance(value, dict):
        datum = {}
        for field in t.fields:
            if field.name in value:
                datum[field.name] = to_datum(field.type, value[field.name])
            elif field.has_default:
                datum[field.name] = to_datum(field.type, field.default, default=True)
        return datum
    if kind == "array" and isinstance(value, list):
        return [to_datum(t.items, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: to_datum(t.items, item) for key, item in value.items()}
    return value


def _plain(t: AType, visiting: frozenset = frozenset()) -> bool:
    known = _PLAIN.get(t)
    if known is not None:
        return known
    if t in visiting:
        return True  # a recursive record: plain unless something else in it is not
    inside = visiting | {t}
    if t.kind in ("bytes", "fixed", "union"):
        plain = False
    elif t.kind == "record":
        plain = all(_plain(field.type, inside) for field in t.fields)
    elif t.kind in ("array", "map"):
        plain = _plain(t.items, inside)
    else:
        plain = True
    if not visiting:
        _PLAIN[t] = plain  # only answers reached from the top are final (a cycle assumed plain above)
    return plain


def _branch_name(branch: AType) -> str:
    # fastavro names a union branch by its full name (named types) or by its kind (everything else).
    return branch.fullname if branch.kind in NAMED else branch.kind


def _union(t: AType, value: object, default: bool) -> object:
    if value is None:
        return None
    if not isinstance(value, dict) and all(_plain(branch) for branch in t.branches):
        # Not a wrapped value, and no branch needs converting: fastavro picks the first branch it fits, as the
        # portal's check does.
        return value
    if not default and isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        for branch in t.branches:
            if key in (branch.fullname, branch.name) if branch.kind in NAMED else key == branch.kind:
                return (_branch_name(branch), to_datum(branch, inner))
    # Written plainly: the first branch the value fits, the same one the portal's check accepted it for.
    for branch in t.branches:
        if not check_value(branch, value, "$", defaults=default):
            return (_branch_name(branch), to_datum(branch, value, default=default))
    return value
