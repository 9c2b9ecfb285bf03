"""Avro schemas read into a small resolved model, with the mistakes people make reported by path.

fastavro is the authority on validity, but its errors name no place ("UnknownType: strng") and it accepts some
things the registry's Java parser rejects (duplicate field names, a union listing a type twice). So the JSON is
first walked here, naming the field at fault and suggesting fixes; fastavro then has the last word.
The same walk builds the resolved model (``AType``) that the diff, the compatibility reasons and the event checks
use, so named-type references and namespaces are resolved once, in one place.
"""

from __future__ import annotations

import json

import fastavro
from fastavro.schema import to_parsing_canonical_form

from ._avro_model import _COMPLEX, _NAME, NAMED, PRIMITIVES, AField, AType, _jpath, describe, short
from ._avro_values import check_value
from ._common import SchemaTextError, load_json, show_value, suggest
from ._types import SchemaProblem


class _Builder:
    """Walks schema JSON once, resolving names and recording problems with their JSON path."""

    def __init__(self) -> None:
        self.named: dict[str, AType] = {}
        self.problems: list[SchemaProblem] = []

    def problem(self, path: str, message: str, label: str = "") -> None:
        prefix = f"field {label!r}: " if label else ""
        self.problems.append(SchemaProblem(prefix + message, path=path or None))

    def build(self, raw: object, ns: str, path: str, label: str = "") -> AType:
        if isinstance(raw, str):
            return self.ref(raw, ns, path, label)
        if isinstance(raw, list):
            return self.union(raw, ns, path, label)
        if isinstance(raw, dict):
            return self.obj(raw, ns, path, label)
        self.problem(path, f"a type must be a type name, an object or a list (a union), not {show_value(raw)}", label)
        return AType("unknown", name=str(raw))

    def lookup(self, name: str, ns: str) -> AType | None:
        if "." not in name and ns and f"{ns}.{name}" in self.named:
            return self.named[f"{ns}.{name}"]
        return self.named.get(name)

    def ref(self, name: str, ns: str, path: str, label: str) -> AType:
        if name in PRIMITIVES:
            return AType(name, name=name)
        found = self.lookup(name, ns)
        if found is not None:
            return found
        if name in _COMPLEX:
            self.problem(path, f'{name!r} must be written as an object, e.g. {{"type": "{name}", ...}}', label)
        else:
            known = list(PRIMITIVES) + [short(n) for n in self.named] + list(self.named)
            self.problem(path, f"unknown type {name!r}{suggest(name, known)}", label)
        return AType("unknown", name=name)

    def union(self, raw: list, ns: str, path: str, label: str) -> AType:
        if not raw:
            self.problem(path, "a union needs at least one type", label)
        branches, seen = [], {}
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            if isinstance(item, list):
                self.problem(where, "a union cannot directly contain another union", label)
                continue
            branch = self.build(item, ns, where, label)
            key = branch.fullname or branch.kind if branch.kind in NAMED else branch.kind
            if key in seen:
                self.problem(where, f"the union lists {describe(branch)} twice (also at position {seen[key]})", label)
            seen.setdefault(key, i)
            branches.append(branch)
        return AType("union", branches=branches)

    def obj(self, raw: dict, ns: str, path: str, label: str) -> AType:
        if "type" not in raw:
            self.problem(path, 'missing "type"', label)
            return AType("unknown")
        kind = raw["type"]
        if isinstance(kind, dict | list):
            return self.build(kind, ns, _jpath(path, "type"), label)
        if not isinstance(kind, str):
            self.problem(_jpath(path, "type"), f'"type" must be a type name, not {show_value(kind)}', label)
            return AType("unknown")
        if kind in PRIMITIVES:
            return AType(kind, name=kind, logical=raw.get("logicalType"), extra=_logical_extra(raw))
        if kind in ("record", "error", "enum", "fixed"):
            return self.named_type(raw, "record" if kind == "error" else kind, ns, path, label)
        if kind in ("array", "map"):
            key = "items" if kind == "array" else "values"
            if key not in raw:
                self.problem(path, f'an {kind} needs "{key}", the type of its {key}', label)
                return AType(kind, items=AType("unknown"))
            return AType(kind, items=self.build(raw[key], ns, _jpath(path, key), label))
        return self.ref(kind, ns, _jpath(path, "type"), label)

    def named_type(self, raw: dict, kind: str, ns: str, path: str, label: str) -> AType:
        name = raw.get("name")
        if name is None:
            self.problem(path, f'a {kind} needs a "name"', label)
            name = f"<unnamed {kind}>"
        elif not isinstance(name, str) or not all(_NAME.match(p) for p in name.split(".")):
            self.problem(_jpath(path, "name"), f"{show_value(name)} is not a valid name: use letters, digits and _, "
                         "not starting with a digit", label)
            name = str(name)
        space = raw.get("namespace", ns) if "." not in name else name.rsplit(".", 1)[0]
        space = space if isinstance(space, str) else ""
        fullname = name if "." in name or not space else f"{space}.{name}"
        if fullname in self.named and not name.startswith("<"):
            self.problem(_jpath(path, "name"), f"type {fullname!r} is defined twice; after the first definition "
                         "refer to it by name", label)
        aliases = raw.get("aliases") if isinstance(raw.get("aliases"), list) else []
        t = AType(kind, name=short(name), fullname=fullname, doc=raw.get("doc"),
                  aliases=tuple(short(str(a)) for a in aliases), logical=raw.get("logicalType"),
                  extra=_logical_extra(raw))
        self.named.setdefault(fullname, t)
        if kind == "record":
            self.record_fields(t, raw, space, path, label)
        elif kind == "enum":
            self.enum_symbols(t, raw, path, label)
        else:
            size = raw.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                self.problem(path, 'a fixed type needs "size", a whole number of bytes', label)
            t.size = size if isinstance(size, int) else None
        return t

    def record_fields(self, t: AType, raw: dict, ns: str, path: str, label: str) -> None:
        fields = raw.get("fields")
        if not isinstance(fields, list):
            self.problem(path, f'record {t.name!r} needs "fields", a list of fields', label)
            return
        seen: dict[str, int] = {}
        for i, item in enumerate(fields):
            where = _jpath(path, f"fields[{i}]")
            if not isinstance(item, dict):
                self.problem(where, 'each field must be an object with "name" and "type"', label)
                continue
            fname = item.get("name")
            if fname is None:
                self.problem(where, f'field {i + 1} of record {t.name!r} has no "name"', label)
                fname = f"<field {i + 1}>"
            elif not isinstance(fname, str) or not _NAME.match(fname):
                self.problem(_jpath(where, "name"), f"{show_value(fname)} is not a valid field name", label)
                fname = str(fname)
            elif fname in seen:
                self.problem(_jpath(where, "name"), f"duplicate field name {fname!r} in record {t.name!r} "
                             f"(also fields[{seen[fname]}])")
            seen.setdefault(fname, i)
            flabel = f"{label}.{fname}" if label else fname
            if "type" not in item:
                self.problem(where, 'has no "type"', flabel)
                ftype = AType("unknown")
            else:
                ftype = self.build(item["type"], ns, _jpath(where, "type"), flabel)
            if item.get("order", "ascending") not in ("ascending", "descending", "ignore"):
                self.problem(_jpath(where, "order"), '"order" must be ascending, descending or ignore', flabel)
            aliases = item.get("aliases") if isinstance(item.get("aliases"), list) else []
            t.fields.append(AField(fname, ftype, "default" in item, item.get("default"), item.get("doc"),
                                   tuple(str(a) for a in aliases), where, flabel))

    def enum_symbols(self, t: AType, raw: dict, path: str, label: str) -> None:
        symbols = raw.get("symbols")
        if not isinstance(symbols, list):
            self.problem(path, f'enum {t.name!r} needs "symbols", a list of names', label)
            return
        for i, sym in enumerate(symbols):
            if not isinstance(sym, str) or not _NAME.match(sym):
                self.problem(_jpath(path, f"symbols[{i}]"), f"{show_value(sym)} is not a valid enum symbol", label)
            elif sym in t.symbols:
                self.problem(_jpath(path, f"symbols[{i}]"), f"symbol {sym!r} is listed twice", label)
            else:
                t.symbols.append(sym)
        default = raw.get("default")
        if default is not None and default not in t.symbols:
            self.problem(_jpath(path, "default"), f"enum default {show_value(default)} is not one of its symbols"
                         f"{suggest(str(default), t.symbols)}", label)
        t.enum_default = default if default in t.symbols else None


def _logical_extra(raw: dict) -> str:
    if raw.get("logicalType") == "decimal":
        return f"({raw.get('precision')},{raw.get('scale', 0)})"
    return ""


def read(raw: object) -> tuple[AType, list[SchemaProblem], dict[str, AType]]:
    """Build the model of decoded schema JSON; returns the top type, the problems found and the named types."""
    builder = _Builder()
    top = builder.build(raw, "", "")
    return top, builder.problems, builder.named


def check(text: str) -> list[SchemaProblem]:
    """Problems with Avro schema text: JSON first, then the walk above and the defaults, finally fastavro itself."""
    raw, problem = load_json(text)
    if problem:
        return [problem]
    _, problems, named = read(raw)
    problems += _default_problems(named)  # checked even beside other problems: parts of unknown type pass
    if problems:
        return problems
    try:
        fastavro.parse_schema(raw)
    except Exception as exc:  # fastavro raises SchemaParseException, UnknownType, KeyError, TypeError, ValueError
        return [SchemaProblem(f"Avro rejects this schema: {_plain(exc)}")]
    return []


def _default_problems(named: dict[str, AType]) -> list[SchemaProblem]:
    problems = []
    for f in (f for t in named.values() if t.kind == "record" for f in t.fields if f.has_default):
        errors = check_value(f.type, f.default, "$", defaults=True)
        if errors:
            first = errors[0]
            detail = f"{first.path}: {first.message}" if first.path != "$" else first.message
            problems.append(SchemaProblem(f"field {f.label!r}: default {json.dumps(f.default)} does not fit its "
                                          f"type {describe(f.type)}: {detail}", path=_jpath(f.path, "default")))
    return problems


def _plain(exc: Exception) -> str:
    name = type(exc).__name__
    if name == "UnknownType":
        return f"unknown type {str(exc)!r}"
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return str(exc) or name


def _valid(text: str, which: str = "schema") -> object:
    problems = check(text)
    if problems:
        raise SchemaTextError(problems, which)
    return json.loads(text)


def parse(text: str, which: str = "schema") -> AType:
    """The model of valid schema text, or SchemaTextError."""
    return read(_valid(text, which))[0]


def canonical(text: str) -> str:
    """The schema JSON with sorted keys and no spacing: formatting no longer counts, but everything else does.

    Not the Parsing Canonical Form on purpose: that drops "default", "doc", "aliases" and "logicalType", so a
    version that only adds a default (the usual way to make a change compatible) would look identical to the
    previous one. Use ``parsing_canonical_form`` where Avro's own notion of sameness is wanted.
    """
    return json.dumps(_valid(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parsing_canonical_form(text: str) -> str:
    """Avro's Parsing Canonical Form (fastavro): full names, only the attributes that affect reading."""
    return to_parsing_canonical_form(_valid(text))
