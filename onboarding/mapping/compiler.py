"""``compile_mapping``: a rule list turned into one function of an event, built once.

Paths are split, functions looked up and their arguments checked when compiling; mapping an event then runs
only closures (a getter per source, the library function, a setter per target). A rule whose result is
``None`` (its sources are missing and nothing fills the gap) leaves its target out, so the canonical schema's
defaults and required fields decide what that means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from onboarding.mapping import library
from onboarding.mapping.rules import FieldRule, FnError, MappingError, RuleFormatError


@dataclass(frozen=True)
class Provenance:
    """Where one output field came from: the rule (index and function) and its source paths."""

    rule_index: int
    fn: str
    sources: tuple[str, ...]

    def to_json(self) -> dict:
        return {"rule": self.rule_index, "fn": self.fn, "sources": list(self.sources)}


class CompiledMapping:
    """Call it with an event (a dict) for the canonical event; ``map_with_provenance`` adds where each
    output field came from, for previews."""

    def __init__(self, steps: list, rules: list[FieldRule]):
        self._steps = steps
        self.rules = rules

    def __call__(self, event: dict) -> dict:
        out: dict = {}
        for index, rule, read, fn, write in self._steps:
            try:
                value = fn(read(event))
            except FnError as exc:
                raise _failure(index, rule, exc) from None
            except Exception as exc:  # a library bug must still name its rule for the dead-letter headers
                raise MappingError(index, rule.target, None, f"{type(exc).__name__}: {exc}") from exc
            if value is not None:
                write(out, value)
        return out

    def map_with_provenance(self, event: dict) -> tuple[dict, dict[str, Provenance]]:
        """The same output as calling it, and for each written target the rule that wrote it last."""
        out: dict = {}
        written: dict[str, Provenance] = {}
        for index, rule, read, fn, write in self._steps:
            try:
                value = fn(read(event))
            except FnError as exc:
                raise _failure(index, rule, exc) from None
            if value is not None:
                write(out, value)
                written[rule.target] = Provenance(index, rule.fn, rule.sources)
        return out, written


def compile_mapping(rules: list[FieldRule], code_tables: dict | None = None) -> CompiledMapping:
    """Closures for ``rules``; a rule that cannot be built raises RuleFormatError keyed by its path."""
    tables = code_tables or {}
    problems: dict[str, list[str]] = {}
    steps = []
    for index, rule in enumerate(rules):
        found = library.arg_problems(rule, tables)
        for key, messages in found.items():
            problems.setdefault(f"rules[{index}].{key}", []).extend(messages)
        for which, path in [("target", rule.target), *((f"sources[{i}]", s) for i, s in enumerate(rule.sources))]:
            if not _plain_path(path):
                problems.setdefault(f"rules[{index}].{which}", []).append(
                    "expected a dotted path of field names (arrays and maps are not mapped yet)")
        if found or any(p.startswith(f"rules[{index}].") for p in problems):
            continue
        read = (lambda event: [event]) if rule.fn == "jsonata" else _reader(rule.sources)
        steps.append((index, rule, read, library.build(rule, tables), _writer(rule.target)))
    if problems:
        raise RuleFormatError(problems)
    return CompiledMapping(steps, list(rules))


def _plain_path(path: str) -> bool:
    return bool(path) and all(part and not any(c in part for c in "[]{}") for part in path.split("."))


def _failure(index: int, rule: FieldRule, exc: FnError) -> MappingError:
    source = rule.sources[exc.source_index] if exc.source_index is not None and rule.sources else None
    return MappingError(index, rule.target, source, exc.message)


def _getter(path: str) -> Callable[[dict], object]:
    """A reader of one dotted path; a missing key or a non-object on the way reads as None (missing)."""
    keys = tuple(path.split("."))
    if len(keys) == 1:
        (k,) = keys
        return lambda event: event.get(k)
    if len(keys) == 2:
        a, b = keys

        def get2(event):
            inner = event.get(a)
            return inner.get(b) if isinstance(inner, dict) else None
        return get2

    def get(event):
        value = event
        for k in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(k)
        return value
    return get


def _reader(sources: tuple[str, ...]) -> Callable[[dict], list]:
    getters = tuple(_getter(s) for s in sources)
    if len(getters) == 1:
        (g,) = getters
        return lambda event: [g(event)]
    if not getters:
        return lambda event: []
    return lambda event: [g(event) for g in getters]


def _writer(path: str) -> Callable[[dict, object], None]:
    keys = tuple(path.split("."))
    *parents, last = keys
    if not parents:
        def put(out, value):
            out[last] = value
        return put

    def put_nested(out, value):
        node = out
        for k in parents:
            node = node.setdefault(k, {})
        node[last] = value
    return put_nested
