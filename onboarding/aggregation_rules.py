"""Pure rules of an aggregation definition (docs/aggregations.md): durations, windows, measures and the
expressions' simple field paths. No database, no network: the services call these and add the checks that
need rows (the source's retention and schema, the team's access).

Each check returns plain messages; the service puts them under the field they are about, so the form and
the API show the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from onboarding.choices import MEASURE_OPS, MeasureOp, WindowType
from onboarding.routing.filters import FilterError, compile_filter

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d)?\s*$")
_UNIT_MS = {None: 1, "ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
# Kafka Streams keeps window sizes as longs of milliseconds; a year is far beyond any useful window and
# keeps sums like size + grace clear of overflow.
MAX_DURATION_MS = 366 * 86_400_000
DURATION_HINT = 'Write a duration like "30s", "15m", "1h", "1d" or milliseconds ("60000").'

# A measure becomes a property of the output record beside these three (docs/aggregations.md, output records).
RESERVED_OUTPUT_NAMES = frozenset({"group", "window_start", "window_end"})
MEASURE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_MEASURES = 50
# value.a.b and nothing fancier: the only shape that names one field of the value schema.
_SIMPLE_VALUE_PATH = re.compile(r"^value((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$")


class DurationError(ValueError):
    pass


def parse_duration(value) -> int | None:
    """Milliseconds from ``15m``, ``1h``, ``30s``, ``500ms``, ``2d``, plain milliseconds (``60000``) or an
    int; None for an empty value. DurationError (with the message a person sees) otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise DurationError(DURATION_HINT)
    if isinstance(value, int):
        ms = value
    elif isinstance(value, float) and value.is_integer():
        ms = int(value)
    elif isinstance(value, str) and (match := _DURATION.match(value.lower())):
        ms = int(match.group(1)) * _UNIT_MS[match.group(2)]
    else:
        raise DurationError(DURATION_HINT)
    if ms < 0:
        raise DurationError("A duration cannot be negative.")
    if ms > MAX_DURATION_MS:
        raise DurationError("A duration may be at most 366 days.")
    return ms


def format_duration(ms: int | None) -> str:
    """The shortest exact spelling of ``ms`` that parse_duration reads back: 3600000 -> "1h"."""
    if ms is None:
        return ""
    for unit in ("d", "h", "m", "s"):
        if ms and ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class Window:
    type: str
    size_ms: int | None
    advance_ms: int | None
    gap_ms: int | None
    grace_ms: int


def window_errors(window: Window) -> dict[str, list[str]]:
    """What the window type needs, keyed by size/advance/gap/grace; fields a type does not use must be empty."""
    errors: dict[str, list[str]] = {}
    if window.type not in WindowType.values:
        return {"window_type": [f"Choose one of {', '.join(WindowType.values)}."]}
    uses_size = window.type != WindowType.SESSION
    if uses_size and not window.size_ms:
        errors["size"] = ["The window size must be greater than 0."]
    if not uses_size and window.size_ms:
        errors["size"] = ["Session windows have no size: they close after a gap; leave it empty."]
    if window.type == WindowType.HOPPING:
        if not window.advance_ms:
            errors["advance"] = ["Hopping windows need an advance greater than 0."]
        elif window.size_ms and window.advance_ms > window.size_ms:
            errors["advance"] = ["The advance may not exceed the window size (windows would leave gaps)."]
    elif window.advance_ms:
        errors["advance"] = ["Only hopping windows have an advance; leave it empty."]
    if window.type == WindowType.SESSION:
        if not window.gap_ms:
            errors["gap"] = ["Session windows need a gap greater than 0."]
    elif window.gap_ms:
        errors["gap"] = ["Only session windows have a gap; leave it empty."]
    if window.grace_ms is None or window.grace_ms < 0:
        errors["grace"] = ["The grace period must be 0 or more."]
    return errors


def expression_errors(expression: str) -> list[str]:
    """The routing filters' own checker: the engine evaluates the same JMESPath."""
    try:
        compile_filter(expression)
    except FilterError as exc:
        return [exc.message]
    return []


def value_field_path(expression: str) -> str | None:
    """``value.amount`` -> ``amount``: the schema field a simple expression reads; None for anything else
    (a function, a projection, ``key``/``headers``), which no schema check can follow."""
    match = _SIMPLE_VALUE_PATH.match((expression or "").strip())
    return match.group(1)[1:] if match else None


def normalize_measures(measures) -> tuple[list[dict], list[str]]:
    """The measures as the engine reads them (``field`` left out for count), and every problem found,
    each naming its measure by position and name."""
    if not isinstance(measures, list):
        return [], ['Measures must be a list of {"name", "op", "field"}.']
    if not measures:
        return [], ["Add at least one measure, e.g. a count."]
    if len(measures) > MAX_MEASURES:
        return [], [f"At most {MAX_MEASURES} measures."]
    problems: list[str] = []
    out: list[dict] = []
    seen: set[str] = set()
    for index, measure in enumerate(measures, start=1):
        if not isinstance(measure, dict):
            problems.append(f'Measure {index}: write it as {{"name", "op", "field"}}.')
            continue
        name, op = measure.get("name"), measure.get("op")
        field = measure.get("field")
        label = f"Measure {index}" + (f" ({name})" if isinstance(name, str) and name else "")
        unknown = sorted(set(measure) - {"name", "op", "field"})
        if unknown:
            problems.append(f"{label}: unknown keys {', '.join(unknown)}.")
        if not isinstance(name, str) or not MEASURE_NAME.match(name):
            problems.append(f"{label}: the name must be an identifier (letters, digits, '_', not starting with a "
                            "digit, at most 64 characters).")
        elif name in RESERVED_OUTPUT_NAMES:
            problems.append(f"{label}: {name} is already a property of every result; choose another name.")
        elif name in seen:
            problems.append(f"{label}: another measure has this name; names must be unique.")
        else:
            seen.add(name)
        if op not in MEASURE_OPS:
            problems.append(f"{label}: unknown op {op!r}; choose one of {', '.join(MEASURE_OPS)}.")
        field = field.strip() if isinstance(field, str) else field
        if op == MeasureOp.COUNT:
            if field:
                problems.append(f"{label}: count counts events and takes no field.")
        elif op in MEASURE_OPS:
            if not field or not isinstance(field, str):
                problems.append(f"{label}: {op} needs a field (a JMESPath such as value.amount).")
            else:
                problems.extend(f"{label}: {text}" for text in expression_errors(field))
        entry = {"name": name, "op": op}
        if op != MeasureOp.COUNT and field:
            entry["field"] = field
        out.append(entry)
    return out, problems
