"""The checks a mapping gets when it is saved, against the source schema and the canonical schema.

Every problem is keyed by where it is in the rule list (``rules[3].sources[0]``, ``rules[3].fn``,
``rules[3].args.table``) so the editor can put it beside the field, and required canonical fields no rule
fills are keyed ``targets.<path>``. Unknown code values are not checked here: they depend on the data and
fail (or fall back to the table's default) at run time.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from onboarding.mapping import library
from onboarding.mapping.compiler import _plain_path
from onboarding.mapping.rules import FieldRule, RuleFormatError, rules_from_json
from onboarding.mapping.schema_fields import FieldSpec

# the logical types a date_parse output must match, so a date never lands in a timestamp field unnoticed
_DATE_OUTPUT_FOR_LOGICAL = {("date", "int"): ("epoch_days",), ("date", "string"): ("date",),
                            ("timestamp-millis", "int"): ("epoch_ms",),
                            ("local-timestamp-millis", "int"): ("epoch_ms",),
                            ("date-time", "string"): ("datetime",)}


@dataclass(frozen=True)
class Coverage:
    covered: list[str]
    required: list[str]

    @property
    def missing(self) -> list[str]:
        return [p for p in self.required if p not in self.covered]

    def to_json(self) -> dict:
        return {"covered": self.covered, "required": self.required, "missing": self.missing}


def check_mapping(rules, source_fields: dict[str, FieldSpec], target_fields: dict[str, FieldSpec],
                  code_tables: dict | None = None) -> dict[str, list[str]]:
    """Every problem of ``rules`` (FieldRule objects or their JSON) by path; {} when the mapping can be saved."""
    tables = code_tables or {}
    if not all(isinstance(r, FieldRule) for r in rules):
        try:
            rules = rules_from_json(list(rules))
        except RuleFormatError as exc:
            return exc.problems
    out: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        out.setdefault(path, []).append(message)

    targets: dict[str, int] = {}
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        for key, messages in library.arg_problems(rule, tables).items():
            for message in messages:
                add(f"{where}.{key}", message)
        source_kinds = [_check_source(rule, i, j, path, source_fields, add) for j, path in enumerate(rule.sources)]
        target = target_fields.get(rule.target)
        if not _plain_path(rule.target):
            add(f"{where}.target", "expected a dotted path of field names (arrays and maps are not mapped yet)")
        elif target is None:
            hint = _suggest(rule.target, target_fields)
            add(f"{where}.target", f"no field {rule.target} in the canonical schema{hint}")
        else:
            _check_output(rule, where, source_kinds, target, tables, add)
        if rule.target in targets:
            add(f"{where}.target", f"{rule.target} is already filled by rules[{targets[rule.target]}]")
        outer = next((k for k, other in enumerate(rules) if rule.target.startswith(other.target + ".")), None)
        if outer is not None:
            add(f"{where}.target", f"{rule.target} is inside rules[{outer}]'s target {rules[outer].target}")
        targets.setdefault(rule.target, i)
    for path in coverage(rules, target_fields).missing:
        add(f"targets.{path}", "required by the canonical schema, and no rule fills it")
    return out


def coverage(rules: list[FieldRule], target_fields: dict[str, FieldSpec]) -> Coverage:
    """Which required canonical fields the rules fill: a rule fills its target, the parents of its target and,
    when it copies a whole record, the fields below it."""
    targets = [r.target for r in rules]
    required = sorted(p for p, f in target_fields.items() if f.required)

    def filled(path: str) -> bool:
        return any(t == path or t.startswith(path + ".") or path.startswith(t + ".") for t in targets)
    return Coverage(covered=[p for p in required if filled(p)], required=required)


def _check_source(rule, i, j, path, source_fields, add) -> set[str] | str:
    where = f"rules[{i}].sources[{j}]"
    if not _plain_path(path):
        add(where, "expected a dotted path of field names (arrays and maps are not mapped yet)")
        return "any"
    spec = source_fields.get(path)
    if spec is None:
        add(where, f"no field {path} in the source schema{_suggest(path, source_fields)}")
        return "any"
    kinds = set(spec.kinds) - {"null"}
    kinds = {"string" if k == "enum" else k for k in kinds}
    wanted = library.SOURCE_KINDS.get(rule.fn, "any")
    if wanted != "any" and "any" not in kinds and not kinds & wanted:
        add(where, f"{rule.fn} needs a {' or '.join(sorted(wanted))} source; {path} is {spec.type}")
    return kinds or "any"


def _check_output(rule, where, source_kinds, target: FieldSpec, tables, add) -> None:
    gives = library.output_kinds(rule, source_kinds)
    if rule.fn == "code" and rule.args.get("table") in tables:
        values = list(tables[rule.args["table"]].values())
        if "default" in rule.args:
            values.append(rule.args["default"])
        gives = {library.value_kind(v) for v in values} or {"string"}
        if "enum" in target.kinds and target.symbols is not None:
            strange = sorted({str(v) for v in values if v not in target.symbols})
            if strange:
                add(f"{where}.args.table", f"gives values that are not symbols of {target.path}: {', '.join(strange)}")
    logical = [(target.logical, k) for k in target.kinds if (target.logical, k) in _DATE_OUTPUT_FOR_LOGICAL]
    if rule.fn == "date_parse" and logical:
        allowed = _DATE_OUTPUT_FOR_LOGICAL[logical[0]]
        if rule.args.get("output", "date") not in allowed:
            add(f"{where}.args.output", f"{target.path} is {target.type}: use output {' or '.join(allowed)}")
            return
    if gives == "any" or "any" in target.kinds:
        return
    misfit = sorted(k for k in set(gives) - {"null"} if not _fits(k, target.kinds))
    if misfit:
        add(f"{where}.fn", f"{rule.fn} gives {' or '.join(misfit)}; {target.path} is {target.type}")


def _fits(kind: str, target_kinds: frozenset[str]) -> bool:
    if kind in target_kinds:
        return True
    if kind == "int" and "float" in target_kinds:
        return True
    return kind == "string" and "enum" in target_kinds


def _suggest(path: str, known: dict) -> str:
    close = difflib.get_close_matches(path, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
