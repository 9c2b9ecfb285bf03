"""The event-store query language: a whitelist over MongoDB's find, checked before anything reaches the store.

A query is a JSON object::

    {"filter": {"value.status": "paid", "value.amount": {"$gte": 10}},
     "from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z",
     "sort": "-timestamp", "projection": ["value.status"], "limit": 100, "cursor": "..."}

Fields are named as a result shows them: ``value.<path>`` (the decoded event), ``key`` (or ``key.<path>``),
``partition`` and ``offset``; the event time is ``timestamp``, filtered with ``from`` (inclusive) and ``to``
(exclusive). Only the operators in OPERATORS are accepted, regexes only anchored (``^...``), and nothing that runs
code in the store (``$where``, ``$function``, ``$accumulator``, ``$expr``) or any other ``$`` name; each refusal
is an error keyed by its path (``filter.value.status.$where``), so the API and the page show it beside the field.
Fields tagged sensitive cannot be filtered or sorted on: a filter on a masked field would reveal its values one
guess at a time. Pure: no I/O, no settings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_DEPTH = 4  # $and/$or inside $and/$or...
MAX_CONDITIONS = 50
MAX_LIST = 100
MAX_STRING = 1000
MAX_REGEX = 200
MAX_PATH_SEGMENTS = 16
TIME = "timestamp"

COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
OPERATORS = (*COMPARISONS, "$in", "$nin", "$exists", "$regex", "$options")
LOGICAL = ("$and", "$or")
REGEX_OPTIONS = ("", "i")
BODY_FIELDS = ("filter", "from", "to", "sort", "projection", "limit", "cursor")
METADATA = ("partition", "offset")
FIELD_HINT = "Name value.<field>, key, key.<field>, partition or offset."
_SEGMENT = re.compile(r"^[^$.\x00][^.\x00]*$")


class QueryError(ValueError):
    """The query is refused; ``errors`` maps each offending path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{path}: {' '.join(texts)}" for path, texts in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Query:
    """A checked query; ``filter`` is MongoDB syntax over the names of a result (``value.status``)."""

    filter: dict
    time_from: dt.datetime | None
    time_to: dt.datetime | None
    sort_field: str
    descending: bool
    projection: tuple[str, ...] | None
    limit: int
    cursor: str | None = None
    fields: tuple[str, ...] = field(default=())  # every field the filter names

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same filter, time range and order (not the page size or projection)."""
        document = [self.filter, _iso(self.time_from), _iso(self.time_to), self.sort_field, self.descending]
        return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[:32]


def parse_query(body, *, sortable: Iterable[str] = (), sensitive: Mapping[str, Mapping[str, str]] | None = None
                ) -> Query:
    """``body`` checked and turned into a Query; QueryError with every problem at once otherwise.

    ``sortable``: the fields besides ``timestamp`` the store has an index on (a sort on anything else would sort
    the whole collection). ``sensitive``: side (``key``, ``value``) -> {tagged path: classification}.
    """
    if not isinstance(body, Mapping):
        raise QueryError({"non_field_errors": ["Send the query as a JSON object."]})
    errors: dict[str, list[str]] = {}
    for name in body:
        if name not in BODY_FIELDS:
            _add(errors, str(name), f"Unknown field; a query has {', '.join(BODY_FIELDS)}.")
    guard = _SensitiveGuard(sensitive or {})
    checker = _FilterChecker(errors, guard)
    raw_filter = body.get("filter")
    if raw_filter in (None, ""):
        raw_filter = {}
    mongo_filter = checker.document(raw_filter, "filter", 0)
    time_from = _time(body.get("from"), "from", errors)
    time_to = _time(body.get("to"), "to", errors)
    if time_from and time_to and time_from >= time_to:
        _add(errors, "to", "Must be later than from.")
    sort_field, descending = _sort(body.get("sort"), set(sortable), guard, errors)
    projection = _projection(body.get("projection"), errors)
    limit = _limit(body.get("limit"), errors)
    cursor = body.get("cursor") or None
    if cursor is not None and not isinstance(cursor, str):
        _add(errors, "cursor", "Pass the cursor of the previous page as it was returned.")
    if errors:
        raise QueryError(errors)
    return Query(filter=mongo_filter, time_from=time_from, time_to=time_to, sort_field=sort_field,
                 descending=descending, projection=projection, limit=limit, cursor=cursor,
                 fields=tuple(sorted(checker.fields)))


def field_problem(path) -> str | None:
    """Why ``path`` is not a field a query may name (None when it is)."""
    if not isinstance(path, str) or not path:
        return "Name a field. " + FIELD_HINT
    segments = path.split(".")
    if any(segment.startswith("$") for segment in segments):
        return "Field names may not start with $."
    if len(segments) > MAX_PATH_SEGMENTS:
        return f"A field path has at most {MAX_PATH_SEGMENTS} parts."
    if not all(_SEGMENT.match(segment) for segment in segments):
        return "A field path is names joined by dots, with no empty part."
    root = segments[0]
    if root == "value" and len(segments) > 1 or root == "key" or (root in METADATA and len(segments) == 1):
        return None
    if root == TIME:
        return "Filter the event time with from and to."
    return "Unknown field. " + FIELD_HINT


class _SensitiveGuard:
    """Refuses field paths that reach into a tagged field (or hold one): their values are masked in results."""

    def __init__(self, sensitive: Mapping[str, Mapping[str, str]]):
        self._tags = [(side, _tokens(path), classification)
                      for side, paths in sensitive.items() for path, classification in paths.items()]

    def problem(self, path: str) -> str | None:
        side, _, rest = path.partition(".")
        wanted = [part for part in rest.split(".") if part and not part.isdigit()] if rest else []
        for tag_side, tokens, classification in self._tags:
            if tag_side != side:
                continue
            common = min(len(tokens), len(wanted))
            if all(t == "{}" or t == w for t, w in zip(tokens[:common], wanted[:common], strict=True)):
                mark = (classification or "sensitive").upper()
                return (f"{path} is or holds a field tagged {mark}: its values are masked, so it cannot be "
                        "filtered or sorted on.")
        return None


def _tokens(path: str) -> list[str]:
    # Arrays are crossed implicitly by a dotted path (visits.code matches every visit's code): [] has no segment.
    return [token for token in re.findall(r"\[\]|\{\}|[^.\[\]{}]+", path) if token != "[]"]


class _FilterChecker:
    def __init__(self, errors: dict[str, list[str]], guard: _SensitiveGuard):
        self.errors, self.guard = errors, guard
        self.fields: set[str] = set()
        self.conditions = 0

    def document(self, raw, path: str, depth: int) -> dict:
        if not isinstance(raw, Mapping):
            _add(self.errors, path, "A filter is a JSON object of fields and conditions.")
            return {}
        result = {}
        for name, condition in raw.items():
            at = f"{path}.{name}"
            if not isinstance(name, str) or not name:
                _add(self.errors, at, "Name a field. " + FIELD_HINT)
            elif name in LOGICAL:
                result[name] = self.logical(condition, at, depth)
            elif name.startswith("$"):
                _add(self.errors, at, _refused_operator(name, top_level=True))
            else:
                result[name] = self.field(name, condition, at)
        return result

    def logical(self, raw, path: str, depth: int) -> list:
        if depth + 1 > MAX_DEPTH:
            _add(self.errors, path, f"Nested too deeply: at most {MAX_DEPTH} levels of $and/$or.")
            return []
        if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST:
            _add(self.errors, path, f"Give a list of 1 to {MAX_LIST} filters.")
            return []
        return [self.document(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(raw)]

    def field(self, name: str, condition, path: str):
        problem = field_problem(name) or self.guard.problem(name)
        if problem:
            _add(self.errors, path, problem)
            return None
        self.fields.add(name)
        self.conditions += 1
        if self.conditions == MAX_CONDITIONS + 1:
            _add(self.errors, "filter", f"At most {MAX_CONDITIONS} conditions.")
        if not isinstance(condition, Mapping):
            return self.literal(condition, path)
        if not condition:
            _add(self.errors, path, "Give a value or conditions such as {\"$gte\": 10}.")
            return None
        if not all(isinstance(op, str) and op.startswith("$") for op in condition):
            _add(self.errors, path, "Compare with a single value, or give operators only (no nested fields: use "
                                    "a dotted path such as value.patient.ward).")
            return None
        checked = {}
        for op, operand in condition.items():
            at = f"{path}.{op}"
            if op not in OPERATORS:
                _add(self.errors, at, _refused_operator(op, top_level=False))
            elif op in COMPARISONS:
                checked[op] = self.literal(operand, at)
            elif op in ("$in", "$nin"):
                checked[op] = self.literals(operand, at)
            elif op == "$exists":
                if not isinstance(operand, bool):
                    _add(self.errors, at, "Give true or false.")
                checked[op] = operand
            elif op == "$regex":
                checked[op] = self.regex(operand, at)
            elif op == "$options":
                if "$regex" not in condition:
                    _add(self.errors, at, "$options goes with $regex.")
                elif operand not in REGEX_OPTIONS:
                    _add(self.errors, at, "The only option is \"i\" (case-insensitive).")
                checked[op] = operand
        return checked

    def literal(self, value, path: str):
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                _add(self.errors, path, "Give a finite number.")
            return value
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                _add(self.errors, path, f"At most {MAX_STRING} characters.")
            return value
        _add(self.errors, path, "Compare with a string, number, true, false or null.")
        return None

    def literals(self, values, path: str) -> list:
        if not isinstance(values, list) or len(values) > MAX_LIST:
            _add(self.errors, path, f"Give a list of at most {MAX_LIST} values.")
            return []
        return [self.literal(value, f"{path}[{index}]") for index, value in enumerate(values)]

    def regex(self, pattern, path: str):
        if not isinstance(pattern, str) or not pattern.startswith("^"):
            _add(self.errors, path, "Only anchored regular expressions are accepted: start the pattern with ^ "
                                    "(a prefix search can use an index, an unanchored one scans every event).")
            return pattern
        if len(pattern) > MAX_REGEX:
            _add(self.errors, path, f"At most {MAX_REGEX} characters.")
            return pattern
        try:
            re.compile(pattern)
        except re.error as exc:
            _add(self.errors, path, f"Not a valid regular expression: {exc}.")
        return pattern


def _refused_operator(name: str, *, top_level: bool) -> str:
    if name in ("$where", "$function", "$accumulator", "$expr"):
        return f"{name} is not allowed: it runs code or expressions in the event store."
    allowed = ", ".join(LOGICAL) if top_level else ", ".join(OPERATORS)
    return f"{name} is not an accepted operator here; use one of {allowed}."


def _time(raw, path: str, errors) -> dt.datetime | None:
    """ISO 8601 (a time without a zone is UTC) or milliseconds since the epoch."""
    if raw in (None, ""):
        return None
    try:
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, int | float):
            return dt.datetime.fromtimestamp(raw / 1000, tz=dt.UTC)
        if isinstance(raw, str):
            moment = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
            return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError, OSError):
        pass
    errors.setdefault(path, []).append("Give a time as ISO 8601 (2026-12-01T08:00:00Z) or milliseconds since "
                                       "the epoch.")
    return None


def _sort(raw, sortable: set[str], guard: _SensitiveGuard, errors) -> tuple[str, bool]:
    if raw in (None, ""):
        return TIME, False
    if not isinstance(raw, str):
        _add(errors, "sort", "Give a field name, with - in front for descending order (-timestamp).")
        return TIME, False
    descending = raw.startswith("-")
    name = raw[1:] if descending else raw
    if name == TIME:
        return TIME, descending
    problem = field_problem(name) or guard.problem(name)
    if problem:
        _add(errors, "sort", problem)
    elif name not in sortable:
        choices = ", ".join([TIME, *sorted(sortable)])
        _add(errors, "sort", f"Sort by the time or an indexed field: {choices}.")
    return name, descending


def _projection(raw, errors) -> tuple[str, ...] | None:
    if raw in (None, [], ""):
        return None
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        _add(errors, "projection", f"Give a list of at most {MAX_CONDITIONS} fields to return.")
        return None
    for index, name in enumerate(raw):
        problem = field_problem(name) if name != TIME else None
        if problem:
            _add(errors, f"projection[{index}]", problem)
    return tuple(dict.fromkeys(raw)) if all(isinstance(name, str) for name in raw) else None


def _limit(raw, errors) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
            raise ValueError
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        _add(errors, "limit", f"Ask for 1 to {MAX_LIMIT} events.")
    return limit


def _add(errors: dict[str, list[str]], path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
