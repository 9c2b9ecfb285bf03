"""What changed between two versions of a schema, and why a change would break consumers.

The registry decides whether a new version is compatible; Apicurio, the one in use, says only yes or no. These
functions supply the human side: a list of changes to show before registering, and plain reasons to show next
to a "not compatible" verdict.
"""

from __future__ import annotations

from onboarding.choices import COMPATIBILITY_MODES

from . import _avro, _avro_diff, _jsonschema, _jsonschema_diff, _protobuf, _protobuf_diff
from ._common import TOO_DEEP, SchemaTextError, normalise_format
from ._types import KINDS, Change, FieldInfo, SchemaProblem

__all__ = ["KINDS", "MODES", "Change", "FieldInfo", "SchemaTextError", "diff_schemas", "explain_incompatibility"]

MODES = COMPATIBILITY_MODES

_PARSE = {"AVRO": _avro.parse, "JSON": _jsonschema.parse, "PROTOBUF": _protobuf.parse}
_DIFF = {"AVRO": _avro_diff.diff, "JSON": _jsonschema_diff.diff, "PROTOBUF": _protobuf_diff.diff}
_REASONS = {"AVRO": _avro_diff.reasons, "JSON": _jsonschema_diff.reasons, "PROTOBUF": _protobuf_diff.reasons}


def _format(fmt: str) -> str:
    name = normalise_format(fmt)
    if name is None:
        raise ValueError(f"Unknown schema format {fmt!r}; choose AVRO, JSON or PROTOBUF.")
    return name


def diff_schemas(old_text: str, new_text: str, fmt: str) -> list[Change]:
    """The changes from ``old_text`` to ``new_text``, in schema order; [] when they mean the same.

    Raises ``SchemaTextError`` (a ValueError) if either text is not a valid schema of ``fmt``.
    """
    name = _format(fmt)
    old = _PARSE[name](old_text, "old schema")
    new = _PARSE[name](new_text, "new schema")
    try:
        return _DIFF[name](old, new)
    except RecursionError:
        raise SchemaTextError([SchemaProblem(TOO_DEEP)]) from None


def explain_incompatibility(old_text: str, new_text: str, fmt: str, mode: str) -> list[str]:
    """Plain-language reasons why ``new_text`` would break consumers under compatibility ``mode``.

    BACKWARD: consumers on the new schema must read data written with the old one. FORWARD: consumers on the
    old schema must read data written with the new one. FULL: both. The *_TRANSITIVE modes give the same
    reasons for one pair; call once per older version. NONE gives []. [] also means no breaking change was
    found; the registry's verdict stays the authority (it may judge some JSON Schema changes more strictly).
    """
    name = _format(fmt)
    mode_name = str(mode or "").strip().upper()
    if mode_name not in MODES:
        raise ValueError(f"Unknown compatibility mode {mode!r}; choose one of {', '.join(MODES)}.")
    base = mode_name.removesuffix("_TRANSITIVE")
    if base == "NONE":
        return []
    old = _PARSE[name](old_text, "old schema")
    new = _PARSE[name](new_text, "new schema")
    directions = ("BACKWARD", "FORWARD") if base == "FULL" else (base,)
    found: list[str] = []
    try:
        for direction in directions:
            for reason in _REASONS[name](old, new, direction):
                if reason not in found:
                    found.append(reason)
    except RecursionError:
        raise SchemaTextError([SchemaProblem(TOO_DEEP)]) from None
    return found
