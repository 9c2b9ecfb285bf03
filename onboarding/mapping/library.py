"""The fixed function library a rule may name. Each entry checks its arguments once (``arg_problems``), says
what it accepts and gives (``source_kinds``/``output_kinds``, for the checks on save) and builds a closure
over its arguments (``build``) that turns the source value into the target value.

A closure receives what the compiler read from the event: the one source value for the functions of one source,
the list of values for ``concat``, the whole event for ``jsonata`` and nothing (None) for ``constant``. It
raises ``FnError`` with the index of the source that failed so the compiler can name its path. ``None``
means missing: most functions pass it on (the target is left out), ``default``, ``constant`` and
``conditional`` are the ones that fill a gap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from onboarding.mapping import jsonata_expr
from onboarding.mapping.rules import FieldRule, FnError
from onboarding.mapping.units import CONVERSIONS

Fn = Callable[[object], object]
CASTS = ("string", "int", "float", "bool")
DATE_OUTPUTS = ("date", "datetime", "epoch_ms", "epoch_days")
_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}
_EPOCH = date(1970, 1, 1)
# how many sources each function takes: (least, most); None is no upper bound
ARITY = {"rename": (1, 1), "cast": (1, 1), "date_parse": (1, 1), "unit": (1, 1), "code": (1, 1),
         "concat": (1, None), "split": (1, 1), "default": (1, 1), "constant": (0, 0), "conditional": (1, 1),
         "jsonata": (0, None)}
# the kinds (see checks.kinds) a source must have; "any" accepts anything
SOURCE_KINDS = {"rename": "any", "cast": {"string", "int", "float", "bool"}, "date_parse": {"string"},
                "unit": {"int", "float"}, "code": {"string", "int"}, "concat": {"string", "int", "float", "bool"},
                "split": {"string"}, "default": "any", "constant": "any", "conditional": "any", "jsonata": "any"}


def arg_problems(rule: FieldRule, code_tables: dict) -> dict[str, list[str]]:
    """Problems of the rule's own shape, keyed ``fn``, ``sources`` or ``args.<name>``; {} when it can be built."""
    out: dict[str, list[str]] = {}
    add = lambda key, msg: out.setdefault(key, []).append(msg)  # noqa: E731
    if rule.fn not in ARITY:
        add("fn", f"unknown function {rule.fn!r}")
        return out
    least, most = ARITY[rule.fn]
    if len(rule.sources) < least or (most is not None and len(rule.sources) > most):
        wanted = f"exactly {least}" if least == most else f"at least {least}" if most is None else f"{least}-{most}"
        add("sources", f"{rule.fn} takes {wanted} source(s), got {len(rule.sources)}")
    a = rule.args
    if rule.fn == "cast" and a.get("to") not in CASTS:
        add("args.to", f"expected one of {', '.join(CASTS)}")
    elif rule.fn == "date_parse":
        formats = a.get("formats")
        if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and "%" in f for f in formats):
            add("args.formats", "expected a list of strptime patterns such as \"%Y%m%d\"")
        if a.get("output", "date") not in DATE_OUTPUTS:
            add("args.output", f"expected one of {', '.join(DATE_OUTPUTS)}")
    elif rule.fn == "unit":
        if (a.get("from"), a.get("to")) not in CONVERSIONS:
            add("args", f"no conversion from {a.get('from')!r} to {a.get('to')!r}; "
                        f"known: {', '.join(f'{x}->{y}' for x, y in CONVERSIONS)}")
        if "digits" in a and (not isinstance(a["digits"], int) or isinstance(a["digits"], bool) or a["digits"] < 0):
            add("args.digits", "expected a whole number of decimal digits")
    elif rule.fn == "code":
        table = a.get("table")
        if not isinstance(table, str) or table not in code_tables:
            add("args.table", f"no code table {table!r}; known: {', '.join(sorted(code_tables)) or 'none'}")
    elif rule.fn in ("concat", "split"):
        if not isinstance(a.get("sep", " "), str) or (rule.fn == "split" and not a.get("sep", " ")):
            add("args.sep", "expected a non-empty string")
        if rule.fn == "split" and (not isinstance(a.get("index"), int) or isinstance(a.get("index"), bool)):
            add("args.index", "expected the index of the part to take (0 is the first, -1 the last)")
    elif rule.fn in ("default", "constant") and "value" not in a:
        add("args.value", "expected the value to write")
    elif rule.fn == "conditional":
        if ("equals" in a) == ("in" in a):
            add("args", "expected exactly one of equals or in")
        if "in" in a and not isinstance(a["in"], list):
            add("args.in", "expected a list of values")
        if "then" not in a:
            add("args.then", "expected the value when the condition holds")
    elif rule.fn == "jsonata":
        for key, msg in jsonata_expr.arg_problems(a).items():
            add(key, msg)
    return out


def output_kinds(rule: FieldRule, source_kinds: list[set[str]]) -> set[str] | str:
    """What the function gives, in the kinds of ``checks``; "any" when only the data can tell."""
    a, fn = rule.args, rule.fn
    if fn == "rename":
        return source_kinds[0] if source_kinds else "any"
    if fn == "cast":
        return {a.get("to")}
    if fn == "date_parse":
        return {"int"} if a.get("output") in ("epoch_ms", "epoch_days") else {"string"}
    if fn == "unit":
        return {"float"}
    if fn in ("concat", "split"):
        return {"string"}
    if fn == "code":
        return {"string"}
    if fn in ("constant", "default"):
        kind = value_kind(a.get("value"))
        return {kind} | (source_kinds[0] if fn == "default" and source_kinds and isinstance(source_kinds[0], set)
                         else set())
    if fn == "conditional":
        return {value_kind(a.get("then"))} | ({value_kind(a["else"])} if "else" in a else set())
    return "any"


def value_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "record" if isinstance(value, dict) else "array" if isinstance(value, list) else "any"


def build(rule: FieldRule, code_tables: dict) -> Fn:
    """The closure for a rule whose ``arg_problems`` are empty."""
    return _BUILDERS[rule.fn](rule.args, code_tables, rule)


def _rename(args, tables, rule) -> Fn:
    return lambda v: v


def _cast(args, tables, rule) -> Fn:
    to = args["to"]

    def cast(v):
        if v is None:
            return None
        try:
            if to == "string":
                return v if isinstance(v, str) else ("true" if v else "false") if isinstance(v, bool) else str(v)
            if to == "int":
                if isinstance(v, float) and not v.is_integer():
                    raise ValueError
                return int(v.strip()) if isinstance(v, str) else int(v)
            if to == "float":
                return float(v)
            if isinstance(v, str):
                word = v.strip().lower()
                if word in _TRUE:
                    return True
                if word in _FALSE:
                    return False
                raise ValueError
            return bool(v)
        except (ValueError, TypeError, OverflowError):
            raise FnError(f"cannot cast {v!r} to {to}") from None
    return cast


_FIXED_WIDTH = {"%Y": r"(\d{4})", "%m": r"(\d{2})", "%d": r"(\d{2})", "%H": r"(\d{2})", "%M": r"(\d{2})",
                "%S": r"(\d{2})"}
_FIELD_ORDER = ("%Y", "%m", "%d", "%H", "%M", "%S")


def _fixed_width_parser(fmt: str):
    """A parser for a pattern made only of %Y %m %d %H %M %S and literal text (``%Y%m%d``, ``%d/%m/%Y``), or None.

    strptime rebuilds nothing but still runs a general regex and locale checks on every call, about a third of
    a whole 20-field mapping; these feeds write dates at fixed width, so one compiled regex and the datetime
    constructor do the same. Text it does not match goes on to strptime, so what parses is unchanged."""
    parts = re.split(r"(%.)", fmt)
    if any(p.startswith("%") and p not in _FIXED_WIDTH for p in parts) or "%" in "".join(parts[::2]):
        return None
    tokens = [p for p in parts if p in _FIXED_WIDTH]
    if len(set(tokens)) != len(tokens) or "%Y" not in tokens:
        return None
    pattern = re.compile("".join(_FIXED_WIDTH.get(p, re.escape(p)) for p in parts))
    if tokens == list(_FIELD_ORDER[:len(tokens)]):  # year first, as most feeds write it: the groups are in order
        def make(groups):
            return datetime(*map(int, groups))
    else:
        order = [(tokens.index(t) if t in tokens else None, d) for t, d in zip(_FIELD_ORDER, (1900, 1, 1, 0, 0, 0),
                                                                                 strict=True)]

        def make(groups):
            return datetime(*[int(groups[i]) if i is not None else d for i, d in order])

    def parse(text: str):
        found = pattern.fullmatch(text)
        if found is None:
            return None
        try:
            return make(found.groups())
        except ValueError:
            return None
    return parse


def _date_parse(args, tables, rule) -> Fn:
    formats = tuple(args["formats"])
    output = args.get("output", "date")
    strptime = datetime.strptime
    fast = [(fmt, _fixed_width_parser(fmt)) for fmt in formats]

    def parse(v):
        if v is None:
            return None
        if not isinstance(v, str):
            raise FnError(f"expected a date as text, got {v!r}")
        for fmt, quick in fast:
            moment = quick(v) if quick is not None else None
            if moment is not None:
                break
            try:
                moment = strptime(v, fmt)
                break
            except ValueError:
                continue
        else:
            raise FnError(f"{v!r} matches none of the formats {', '.join(formats)}")
        if output == "date":
            return moment.date().isoformat()
        if output == "datetime":
            return moment.isoformat()
        if moment.tzinfo is None:  # a local time without zone is read as UTC: the feed's zone is not known here
            moment = moment.replace(tzinfo=UTC)
        if output == "epoch_days":
            return (moment.date() - _EPOCH).days
        return int(moment.timestamp() * 1000)
    return parse


def _unit(args, tables, rule) -> Fn:
    convert = CONVERSIONS[(args["from"], args["to"])]
    digits = args.get("digits")

    def unit(v):
        if v is None:
            return None
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                raise FnError(f"expected a number in {args['from']}, got {v!r}") from None
        elif isinstance(v, bool) or not isinstance(v, int | float):
            raise FnError(f"expected a number in {args['from']}, got {v!r}")
        out = float(convert(v))
        return round(out, digits) if digits is not None else out
    return unit


_MISSING = object()


def _code(args, tables, rule) -> Fn:
    table = dict(tables[args["table"]])
    name = args["table"]
    fallback = args.get("default", _MISSING)

    def code(v):
        if v is None:
            return None
        found = table.get(v, table.get(str(v), _MISSING)) if not isinstance(v, str) else table.get(v, _MISSING)
        if found is not _MISSING:
            return found
        if fallback is _MISSING:
            raise FnError(f"code {v!r} is not in table {name}")
        return fallback
    return code


def _concat(args, tables, rule) -> Fn:
    sep = args.get("sep", " ")

    def concat(values):
        parts = [v if isinstance(v, str) else str(v) for v in values if v is not None and v != ""]
        return sep.join(parts) if parts else None
    return concat


def _split(args, tables, rule) -> Fn:
    sep, index = args.get("sep", " "), args["index"]

    def split(v):
        if v is None:
            return None
        if not isinstance(v, str):
            raise FnError(f"expected text to split, got {v!r}")
        parts = v.split(sep)
        return parts[index] if -len(parts) <= index < len(parts) else None
    return split


def _default(args, tables, rule) -> Fn:
    value = args["value"]
    return lambda v: value if v is None else v


def _constant(args, tables, rule) -> Fn:
    value = args["value"]
    return lambda v: value


def _conditional(args, tables, rule) -> Fn:
    then, otherwise = args["then"], args.get("else")
    if "equals" in args:
        expected = args["equals"]
        return lambda v: then if v == expected else otherwise
    try:
        choices = frozenset(args["in"])
        return lambda v: then if v in choices else otherwise
    except TypeError:  # unhashable values (objects, lists): compared one by one
        listed = list(args["in"])
        return lambda v: then if v in listed else otherwise


def _jsonata(args, tables, rule) -> Fn:
    return jsonata_expr.build(args)


_BUILDERS = {"rename": _rename, "cast": _cast, "date_parse": _date_parse, "unit": _unit, "code": _code,
             "concat": _concat, "split": _split, "default": _default, "constant": _constant,
             "conditional": _conditional, "jsonata": _jsonata}
