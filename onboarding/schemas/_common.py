"""Helpers every format needs: the size limit, JSON decoding with positions, format names, "did you mean"."""

from __future__ import annotations

import difflib
import json

from onboarding import json_limits
from onboarding.choices import SCHEMA_FORMATS

from ._types import SchemaProblem

MAX_SCHEMA_BYTES = 1_048_576
FORMATS = SCHEMA_FORMATS
TOO_DEEP = "The schema is nested too deeply to check."


class SchemaTextError(ValueError):
    """Raised by functions that need a valid schema (diff, canonical form) when given text that is not one."""

    def __init__(self, problems: list[SchemaProblem], which: str = "schema"):
        self.problems = problems
        super().__init__(f"The {which} is not valid: " + "; ".join(str(p) for p in problems[:3]))


def normalise_format(fmt: object) -> str | None:
    """``fmt`` upper-cased when it names a supported format, else None (callers report the original spelling)."""
    name = str(fmt or "").strip().upper()
    return name if name in FORMATS else None


def unknown_format_problem(fmt: object) -> SchemaProblem:
    return SchemaProblem(f"Unknown schema format {str(fmt)!r}; choose AVRO, JSON or PROTOBUF.")


def size_problem(text: str) -> SchemaProblem | None:
    """The registry and the portal both refuse huge schemas; say how big it is against the limit."""
    size = len(text.encode("utf-8"))
    if size > MAX_SCHEMA_BYTES:
        return SchemaProblem(
            f"The schema is {size:,} bytes ({size / 1_048_576:.1f} MiB); "
            f"the limit is {MAX_SCHEMA_BYTES:,} bytes (1 MiB)."
        )
    if not text.strip():
        return SchemaProblem("The schema is empty.")
    return None


def load_json(text: str, what: str = "The schema") -> tuple[object, SchemaProblem | None]:
    """Decode JSON, turning a decode error into a problem that keeps json's line and column."""
    try:
        return json_limits.loads(text), None
    except json.JSONDecodeError as exc:
        return None, SchemaProblem(f"{what} is not valid JSON: {exc.msg}.", line=exc.lineno, column=exc.colno)
    except json_limits.JSONTooDeep as exc:
        # Checkers and diffs walk the document recursively: a limit here keeps them far from Python's.
        return None, SchemaProblem(f"{what} is not accepted: {exc}")


def suggest(word: str, candidates, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate (ignoring case; first wins a tie), or an empty string."""
    best, best_score = None, cutoff
    for candidate in (str(c) for c in candidates):
        score = difflib.SequenceMatcher(None, str(word).lower(), candidate.lower()).ratio()
        if score > best_score or (best is None and score >= cutoff):
            best, best_score = candidate, score
    return f" (did you mean {best!r}?)" if best is not None and best != str(word) else ""


def json_kind(value: object) -> str:
    """The JSON name of a decoded value's type, as people write it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def show_value(value: object) -> str:
    """A decoded value with its kind, for 'got ...' messages: ``string 'x'``, ``number 5``, ``object``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"string {shown!r}"
    if isinstance(value, list):
        return f"array of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "object"
    return repr(value)


def join_path(base: str, key: object) -> str:
    """Extend a ``$``-rooted event path: ``$.a``, ``$.a[0]``, ``$["odd key"]``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    key = str(key)
    if key.isidentifier():
        return f"{base}.{key}"
    return f"{base}[{json.dumps(key)}]"
