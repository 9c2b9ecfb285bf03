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
    output field came from, for previews.

    The steps are grouped by the object their targets sit in (``patient.name``), so the output's nested
    objects are found or made once per group, and only when a rule of the group writes something. Outputs may
    share objects with the event (a rename of a whole record): they are meant to be encoded, not edited."""

    def __init__(self, groups: list, rules: list[FieldRule]):
        self._groups = groups
        self.rules = rules

    def __call__(self, event: dict) -> dict:
        return self._run(event, None)

    def map_with_provenance(self, event: dict) -> tuple[dict, dict[str, Provenance]]:
        """The same output as calling it, and for each written target the rule that wrote it last."""
        written: dict[str, Provenance] = {}
        return self._run(event, written), written

    def _run(self, event: dict, written: dict | None) -> dict:
        out: dict = {}
        for parents, members in self._groups:
            node = None if parents else out
            for index, rule, get, fn, key in members:
                try:
                    value = get(event) if fn is None else fn(get(event))
                except FnError as exc:
                    raise _failure(index, rule, exc) from None
                except Exception as exc:  # a library bug must still name its rule for the dead-letter headers
                    raise MappingError(index, rule.target, None, f"{type(exc).__name__}: {exc}") from exc
                if value is not None:
                    if node is None:
                        node = out
                        for k in parents:
                            node = node.setdefault(k, {})
                    node[key] = value
                    if written is not None:
                        written[rule.target] = Provenance(index, rule.fn, rule.sources)
        return out


def compile_mapping(rules: list[FieldRule], code_tables: dict | None = None) -> CompiledMapping:
    """Closures for ``rules``; a rule that cannot be built raises RuleFormatError keyed by its path."""
    tables = code_tables or {}
    problems: dict[str, list[str]] = {}
    groups: dict[tuple[str, ...], list] = {}
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        for key, messages in library.arg_problems(rule, tables).items():
            problems.setdefault(f"{where}.{key}", []).extend(messages)
        for which, path in [("target", rule.target), *((f"sources[{i}]", s) for i, s in enumerate(rule.sources))]:
            if not _plain_path(path):
                problems.setdefault(f"{where}.{which}", []).append(
                    "expected a dotted path of field names (arrays and maps are not mapped yet)")
        outer = next((i for i, other in enumerate(rules) if rule.target.startswith(other.target + ".")), None)
        if outer is not None:  # the inner write would land in (and change) whatever the outer rule copied
            problems.setdefault(f"{where}.target", []).append(f"{rule.target} is inside rules[{outer}]'s target "
                                                              f"{rules[outer].target}")
        if any(p.startswith(f"{where}.") for p in problems):
            continue
        *parents, key = rule.target.split(".")
        fn = None if rule.fn == "rename" else library.build(rule, tables)
        groups.setdefault(tuple(parents), []).append((index, rule, _reader(rule), fn, key))
    if problems:
        raise RuleFormatError(problems)
    return CompiledMapping(list(groups.items()), list(rules))


def _reader(rule: FieldRule) -> Callable[[dict], object]:
    """What the rule's function receives (see ``library``): one value, a list, the event or nothing."""
    if rule.fn == "jsonata":
        return lambda event: event
    if rule.fn == "concat":
        getters = tuple(_getter(s) for s in rule.sources)
        return lambda event: [g(event) for g in getters]
    if not rule.sources:
        return lambda event: None
    return _getter(rule.sources[0])


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
