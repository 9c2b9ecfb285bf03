"""The rules of one source topic, indexed so an event costs a few dictionary lookups, not one filter per rule.

Most filters have one of a few shapes, recognised in the filter's parsed expression once per rule version:

- equality of a field and a literal (``value.ward == 'ICU'``, ``headers.source == 'lab'``, ``key == 'p-1'``):
  one dict per field path, from the literal to the rules that want it; an event reads the field once and
  looks its value up;
- a field compared with a number (``value.amount > `100```): per path and operator, the numbers sorted, so the
  rules an event matches are found by bisection;
- a field on its own (``value.urgent``, ``headers.trace``): the rules wanting that field truthy, per path;
- either of those as the leftmost operand of ``&&`` (``value.ward == 'ICU' && value.n > `5```): indexed by
  that operand, and the whole filter is evaluated only for the events the operand lets through. Only the
  leftmost: JMESPath evaluates ``a && b`` left to right and stops at a false ``a``, so skipping an event on
  a false ``a`` is exactly what the filter does, errors in ``b`` included.

Every other filter stays in a residual list evaluated per event (JMESPath parsed once, one shared
document per event). The matches are the same as evaluating every rule's filter: equality follows JMESPath
(numbers equal across int and float, never a boolean), a field on its own follows JMESPath truthiness.

The value is decoded once per event, and only when a rule that is not broken needs it: rules without a
filter and filters reading only headers or the key never decode.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from numbers import Number

from onboarding.routing.decode import DecodeError
from onboarding.routing.filters import CompiledFilter, FilterEvaluationError, truthy

_ROOTS = ("value", "headers", "key")
# An ordering comparison with the literal on the left, turned around.
_FLIPPED = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}
_UNHASHABLE = object()


@dataclass(frozen=True)
class Outcome:
    """What one rule makes of one event: matched, or the error that sends the event to its dead-letter topic."""

    position: int  # the rule's place in the source's rules (subscription id order)
    rule: object
    error: Exception | None = None


def equality_key(value):
    """A dict key under which two values are equal exactly when JMESPath's ``==`` says so.

    Python's own equality makes ``1 == True``; JMESPath never equals a number and a boolean. Lists and
    objects are never the value of an indexed literal, so they get no key (they equal none of them)."""
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, Number):
        return ("number", value)
    return _UNHASHABLE


@dataclass(frozen=True)
class Shape:
    """How a filter can be looked up: ``kind`` is 'equal' or an ordering ('lt', 'lte', 'gt', 'gte': the field
    compared with a number ``literal``), or 'truthy', on ``path``."""

    kind: str
    path: tuple[str, ...]
    literal: object = None
    whole: bool = True  # False when it is only the leftmost operand of &&: the whole filter is checked after


def shape_of(compiled: CompiledFilter | None) -> Shape | None:
    """The indexable shape of a filter, or None when it must be evaluated per event."""
    if compiled is None:
        return None
    return _shape(compiled.tree)


def _shape(node: dict, whole: bool = True) -> Shape | None:
    kind = node.get("type")
    if kind == "and_expression":
        return _shape(node["children"][0], whole=False)
    if kind == "comparator" and node.get("value") in _FLIPPED:
        left, right = node["children"]
        operator = node["value"]
        if left.get("type") == "literal":  # `5` < value.n reads as value.n > `5`
            left, right, operator = right, left, _FLIPPED[operator]
        path = _path(left)
        literal = right.get("value") if right.get("type") == "literal" else None
        if path is None or not _is_number(literal):
            return None
        return Shape(operator, path, literal, whole)
    if kind == "comparator" and node.get("value") == "eq":
        left, right = node["children"]
        if right.get("type") == "literal":
            path, literal = _path(left), right["value"]
        elif left.get("type") == "literal":
            path, literal = _path(right), left["value"]
        else:
            return None
        if path is None or equality_key(literal) is _UNHASHABLE:
            return None
        return Shape("equal", path, literal, whole)
    path = _path(node)
    return Shape("truthy", path, None, whole) if path is not None else None


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _path(node: dict) -> tuple[str, ...] | None:
    """``value.a.b`` as ('value', 'a', 'b'): a chain of plain field names from the document's root."""
    if node.get("type") == "field":
        names = (node["value"],)
    elif node.get("type") == "subexpression" and all(c.get("type") == "field" for c in node["children"]):
        names = tuple(c["value"] for c in node["children"])
    else:
        return None
    return names if names[0] in _ROOTS else None


def _read(document: dict, path: tuple[str, ...]):
    # JMESPath's field lookup: a missing field or a non-object on the way gives null.
    current = document
    for name in path:
        try:
            current = current.get(name)
        except AttributeError:
            return None
    return current


class SourceIndex:
    """The enabled rules of one source topic, in subscription id order, indexed by the shape of their filter."""

    def __init__(self, rules):
        self.rules = list(rules)
        self.broken: list[tuple[int, object]] = []
        self.unfiltered: list[tuple[int, object]] = []
        # path -> equality key -> [(position, rule, the whole filter when only a part is indexed)]
        self.equal: dict[tuple[str, ...], dict[object, list]] = {}
        self.truthy: dict[tuple[str, ...], list] = {}
        self.ranges: dict[tuple[str, ...], _Ranges] = {}
        self.residual: list[tuple[int, object, CompiledFilter]] = []
        self.indexed = 0
        for position, rule in enumerate(self.rules):
            if rule.broken:
                self.broken.append((position, rule))
                continue
            compiled = rule.compiled
            if compiled is None:
                self.unfiltered.append((position, rule))
                continue
            shape = shape_of(compiled)
            if shape is None:
                self.residual.append((position, rule, compiled))
                continue
            self.indexed += 1
            entry = (position, rule, None if shape.whole else compiled)
            if shape.kind == "equal":
                self.equal.setdefault(shape.path, {}).setdefault(equality_key(shape.literal), []).append(entry)
            elif shape.kind == "truthy":
                self.truthy.setdefault(shape.path, []).append(entry)
            else:
                self.ranges.setdefault(shape.path, _Ranges()).add(shape.kind, shape.literal, entry)
        for ranges in self.ranges.values():
            ranges.freeze()
        value_paths = [p for p in (*self.equal, *self.truthy, *self.ranges) if p[0] == "value"]
        partial = any(e[2] is not None for t in self.equal.values() for es in t.values() for e in es) or any(
            e[2] is not None for es in self.truthy.values() for e in es) or any(
            r.partial for r in self.ranges.values())
        # The value is needed by value paths, by residual filters and by the rest of a partly indexed &&.
        self.needs_value = bool(value_paths or self.residual or partial)

    def match(self, value, headers: dict[str, str], key: str | None) -> list[Outcome]:
        """The outcomes of the rules that match or fail on this event, in rule order; the others filter it out.

        ``value`` is a callable decoding the event's value (raising DecodeError), called at most once and
        only when a filter needs the value. Broken rules are not matched here (the router dead-letters them).
        """
        outcomes = [Outcome(position, rule) for position, rule in self.unfiltered]
        document = {"value": None, "headers": headers, "key": key}
        decode_error = None
        if self.needs_value:
            try:
                document["value"] = value()
            except DecodeError as exc:
                decode_error = exc
        for path, table in self.equal.items():
            if decode_error is not None and path[0] == "value":
                outcomes.extend(Outcome(p, r, decode_error) for es in table.values() for p, r, _ in es)
                continue
            entries = table.get(equality_key(_read(document, path)))
            if entries:
                self._confirm(entries, document, decode_error, outcomes)
        for path, entries in self.truthy.items():
            if decode_error is not None and path[0] == "value":
                outcomes.extend(Outcome(p, r, decode_error) for p, r, _ in entries)
                continue
            if truthy(_read(document, path)):
                self._confirm(entries, document, decode_error, outcomes)
        for path, ranges in self.ranges.items():
            if decode_error is not None and path[0] == "value":
                outcomes.extend(Outcome(p, r, decode_error) for p, r, _ in ranges.entries())
                continue
            field = _read(document, path)
            if _is_number(field):
                entries = ranges.matching(field)
            elif isinstance(field, str) or (isinstance(field, float) and field != field):
                # A text compared with a number is an error, NaN compares false: each rule's own filter says.
                entries = [(p, r, whole or r.compiled) for p, r, whole in ranges.entries()]
            else:
                continue  # null, booleans, lists, objects: ordering gives null, no match
            if entries:
                self._confirm(entries, document, decode_error, outcomes)
        for position, rule, compiled in self.residual:
            if decode_error is not None:
                outcomes.append(Outcome(position, rule, decode_error))
                continue
            try:
                if compiled.matches_document(document):
                    outcomes.append(Outcome(position, rule))
            except FilterEvaluationError as exc:
                outcomes.append(Outcome(position, rule, exc))
        if len(outcomes) > 1:
            outcomes.sort(key=lambda outcome: outcome.position)
        return outcomes

    @staticmethod
    def _confirm(entries, document, decode_error, outcomes) -> None:
        for position, rule, whole in entries:
            if whole is None:
                outcomes.append(Outcome(position, rule))
            elif decode_error is not None:
                # A header's equality let the event through; the rest of the filter reads the value.
                outcomes.append(Outcome(position, rule, decode_error))
            else:
                try:
                    if whole.matches_document(document):
                        outcomes.append(Outcome(position, rule))
                except FilterEvaluationError as exc:
                    outcomes.append(Outcome(position, rule, exc))


class _Ranges:
    """Rules comparing one field with a number: per operator, sorted by the number, so an event's matches are
    one bisection away (``value.n < `5``` matches every rule whose number is above the event's)."""

    def __init__(self):
        self._pending: dict[str, list] = {"lt": [], "lte": [], "gt": [], "gte": []}
        self._sorted: dict[str, tuple[list, list]] = {}
        self.partial = False

    def add(self, operator: str, number, entry) -> None:
        self._pending[operator].append((number, entry))
        self.partial = self.partial or entry[2] is not None

    def freeze(self) -> None:
        for operator, items in self._pending.items():
            items.sort(key=lambda item: (item[0], item[1][0]))
            self._sorted[operator] = ([number for number, _ in items], [entry for _, entry in items])

    def entries(self) -> list:
        return [entry for _, entries in self._sorted.values() for entry in entries]

    def matching(self, field) -> list:
        found = []
        numbers, entries = self._sorted["lt"]  # field < number
        found.extend(entries[bisect_right(numbers, field):])
        numbers, entries = self._sorted["lte"]  # field <= number
        found.extend(entries[bisect_left(numbers, field):])
        numbers, entries = self._sorted["gt"]  # field > number
        found.extend(entries[:bisect_left(numbers, field)])
        numbers, entries = self._sorted["gte"]  # field >= number
        found.extend(entries[:bisect_right(numbers, field)])
        return found
