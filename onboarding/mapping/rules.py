"""The rule format: a mapping is a list of field rules, each filling one canonical ``target`` path from
``sources`` through one function of the fixed library, and its JSON form.

A rule is data, never code: ``fn`` names a library function and ``args`` configure it, so a saved mapping can be
checked against both schemas and compiled into closures without evaluating any user text as Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

FUNCTIONS = ("rename", "cast", "date_parse", "unit", "code", "concat", "split", "default", "constant",
             "conditional", "jsonata")


@dataclass(frozen=True)
class FieldRule:
    target: str
    sources: tuple[str, ...] = ()
    fn: str = "rename"
    args: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"target": self.target, "sources": list(self.sources), "fn": self.fn, "args": dict(self.args)}


class RuleFormatError(ValueError):
    """The JSON is not a rule list; ``problems`` maps paths such as ``rules[2].sources`` to messages."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        super().__init__("; ".join(f"{p}: {', '.join(m)}" for p, m in problems.items()))


class MappingError(Exception):
    """One event could not be mapped: which rule, which target and which source path (the dead-letter headers)."""

    def __init__(self, rule_index: int, target: str, source: str | None, message: str):
        self.rule_index, self.target, self.source, self.message = rule_index, target, source, message
        where = f" from {source}" if source else ""
        super().__init__(f"rules[{rule_index}] {target}{where}: {message}")

    def headers(self) -> dict[str, str]:
        return {"map.error.rule": str(self.rule_index), "map.error.target": self.target,
                "map.error.source": self.source or "", "map.error.message": self.message}


class FnError(Exception):
    """A library function failed on one value; ``source_index`` is the source it came from (None: the event)."""

    def __init__(self, message: str, source_index: int | None = 0):
        self.message, self.source_index = message, source_index
        super().__init__(message)


def rules_from_json(data: object) -> list[FieldRule]:
    """Rules from decoded JSON (a list of objects); every shape problem is reported with its path."""
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list):
        raise RuleFormatError({"rules": ["expected a list of rules"]})
    problems: dict[str, list[str]] = {}
    out = []
    for i, raw in enumerate(data):
        where = f"rules[{i}]"
        if not isinstance(raw, dict):
            problems.setdefault(where, []).append("expected an object with target, sources, fn and args")
            continue
        unknown = set(raw) - {"target", "sources", "fn", "args"}
        if unknown:
            problems.setdefault(where, []).append(f"unknown keys: {', '.join(sorted(unknown))}")
        target, sources = raw.get("target"), raw.get("sources", [])
        fn, args = raw.get("fn", "rename"), raw.get("args", {})
        if not isinstance(target, str) or not target:
            problems.setdefault(f"{where}.target", []).append("expected a dotted field path")
        if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
            problems.setdefault(f"{where}.sources", []).append("expected a list of dotted field paths")
        if fn not in FUNCTIONS:
            problems.setdefault(f"{where}.fn", []).append(f"unknown function {fn!r}; one of {', '.join(FUNCTIONS)}")
        if not isinstance(args, dict):
            problems.setdefault(f"{where}.args", []).append("expected an object")
        if not any(p.startswith(where) for p in problems):
            out.append(FieldRule(target=target, sources=tuple(sources), fn=fn, args=dict(args)))
    if problems:
        raise RuleFormatError(problems)
    return out


def rules_to_json(rules: list[FieldRule]) -> list[dict]:
    return [r.to_json() for r in rules]


def loads(text: str) -> list[FieldRule]:
    try:
        return rules_from_json(json.loads(text))
    except json.JSONDecodeError as exc:
        raise RuleFormatError({"rules": [f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]}) from None


def dumps(rules: list[FieldRule]) -> str:
    return json.dumps(rules_to_json(rules), sort_keys=True)
