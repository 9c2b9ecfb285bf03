"""Every function of the mapping library, one closure at a time, and the argument checks that guard them."""

import time
from datetime import datetime

import pytest

from onboarding.mapping.library import arg_problems, build
from onboarding.mapping.rules import FieldRule, FnError

TABLES = {"sex": {"M": "male", "F": "female", "1": "one"}}


def run(fn: str, values: list, sources=None, **args):
    rule = FieldRule("out", tuple(sources if sources is not None else [f"s{i}" for i in range(len(values))]), fn, args)
    assert arg_problems(rule, TABLES) == {}
    # what the compiler hands over: the list for concat, else the one value (or the event, or nothing)
    return build(rule, TABLES)(values if fn == "concat" else values[0] if values else None)


def problems(fn: str, sources=("a",), **args):
    return arg_problems(FieldRule("out", tuple(sources), fn, args), TABLES)


def test_rename_copies_any_value_and_passes_missing_on():
    assert run("rename", [{"a": [1]}]) == {"a": [1]}
    assert run("rename", [None]) is None


@pytest.mark.parametrize(("to", "value", "expected"), [
    ("string", 42, "42"), ("string", True, "true"), ("string", 1.5, "1.5"), ("int", "  17 ", 17), ("int", 3.0, 3),
    ("float", "1.25", 1.25), ("float", 2, 2.0), ("bool", "Yes", True), ("bool", "0", False), ("bool", 1, True),
])
def test_cast(to, value, expected):
    assert run("cast", [value], to=to) == expected


@pytest.mark.parametrize(("to", "value"), [("int", "abc"), ("int", 2.5), ("float", "x"), ("bool", "maybe"),
                                           ("int", {"a": 1})])
def test_cast_failure_names_the_value(to, value):
    with pytest.raises(FnError, match=f"cannot cast .* to {to}") as caught:
        run("cast", [value], to=to)
    assert caught.value.source_index == 0


def test_cast_needs_a_known_type():
    assert problems("cast", to="decimal") == {"args.to": ["expected one of string, int, float, bool"]}


@pytest.mark.parametrize(("output", "expected"), [
    ("date", "1980-01-31"), ("datetime", "1980-01-31T00:00:00"), ("epoch_days", 3682), ("epoch_ms", 318124800000),
])
def test_date_parse_outputs(output, expected):
    assert run("date_parse", ["19800131"], formats=["%Y%m%d"], output=output) == expected


def test_date_parse_tries_formats_in_order_and_keeps_the_zone_of_the_text():
    assert run("date_parse", ["31/01/1980"], formats=["%Y%m%d", "%d/%m/%Y"]) == "1980-01-31"
    assert run("date_parse", ["2024-01-31T16:30:00+01:00"], formats=["%Y-%m-%dT%H:%M:%S%z"],
               output="epoch_ms") == 1706715000000


@pytest.mark.parametrize(("text", "fmt"), [
    ("19800131", "%Y%m%d"), ("31/01/1980", "%d/%m/%Y"), ("202401311530", "%Y%m%d%H%M"), ("1/2/1980", "%d/%m/%Y"),
    ("1980-01-31T10:11:12", "%Y-%m-%dT%H:%M:%S"), ("Jan 31 1980", "%b %d %Y"), ("19800229", "%Y%m%d"),
])
def test_date_parse_fixed_width_patterns_agree_with_strptime(text, fmt):
    try:
        expected = datetime.strptime(text, fmt).isoformat()
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(FnError):
            run("date_parse", [text], formats=[fmt], output="datetime")
    else:
        assert run("date_parse", [text], formats=[fmt], output="datetime") == expected


def test_date_parse_failures():
    with pytest.raises(FnError, match="'1980-13-01' matches none of the formats %Y%m%d"):
        run("date_parse", ["1980-13-01"], formats=["%Y%m%d"])
    with pytest.raises(FnError, match="expected a date as text"):
        run("date_parse", [19800131], formats=["%Y%m%d"])
    assert run("date_parse", [None], formats=["%Y%m%d"]) is None
    assert problems("date_parse", formats=["yyyyMMdd"], output="week") == {
        "args.formats": ['expected a list of strptime patterns such as "%Y%m%d"'],
        "args.output": ["expected one of date, datetime, epoch_ms, epoch_days"]}


@pytest.mark.parametrize(("frm", "to", "value", "expected"), [
    ("lb", "kg", 176, 79.83), ("kg", "lb", 80, 176.37), ("in", "cm", 70, 177.8), ("cm", "in", 254, 100.0),
    ("F", "C", 98.6, 37.0), ("C", "F", -40, -40.0), ("mg/dL", "mmol/L", 90, 5.0), ("mmol/L", "mg/dL", 5.5, 99.09),
])
def test_unit_conversions(frm, to, value, expected):
    assert run("unit", [value], **{"from": frm, "to": to, "digits": 2}) == expected


def test_unit_reads_numbers_in_text_and_refuses_the_rest():
    assert run("unit", ["10"], **{"from": "kg", "to": "lb"}) == pytest.approx(22.0462, abs=1e-4)
    with pytest.raises(FnError, match="expected a number in lb"):
        run("unit", ["heavy"], **{"from": "lb", "to": "kg"})
    with pytest.raises(FnError, match="expected a number in lb"):
        run("unit", [True], **{"from": "lb", "to": "kg"})
    assert "args" in problems("unit", **{"from": "lb", "to": "m"})
    assert problems("unit", **{"from": "lb", "to": "kg", "digits": -1}) == {
        "args.digits": ["expected a whole number of decimal digits"]}


def test_code_table_lookup_default_and_unknown():
    assert run("code", ["M"], table="sex") == "male"
    assert run("code", [1], table="sex") == "one"  # a number is looked up as its text too
    assert run("code", ["X"], table="sex", default="unknown") == "unknown"
    with pytest.raises(FnError, match="code 'X' is not in table sex"):
        run("code", ["X"], table="sex")
    assert problems("code", table="gender") == {"args.table": ["no code table 'gender'; known: sex"]}


def test_concat_skips_missing_and_empty_parts():
    assert run("concat", ["a", None, "", 3], sep="-") == "a-3"
    assert run("concat", [None, None]) is None


def test_split_takes_one_part():
    assert run("split", ["DOE^JOHN^Q"], sep="^", index=1) == "JOHN"
    assert run("split", ["DOE^JOHN^Q"], sep="^", index=-1) == "Q"
    assert run("split", ["DOE"], sep="^", index=1) is None
    with pytest.raises(FnError, match="expected text to split"):
        run("split", [5], sep="^", index=0)
    assert problems("split", sep="", index="1") == {
        "args.sep": ["expected a non-empty string"],
        "args.index": ["expected the index of the part to take (0 is the first, -1 the last)"]}


def test_default_fills_only_missing():
    assert run("default", [None], value="x") == "x"
    assert run("default", [False], value=True) is False
    assert problems("default") == {"args.value": ["expected the value to write"]}


def test_constant_takes_no_source():
    assert run("constant", [], sources=[], value=7) == 7
    assert problems("constant", sources=("a",), value=1) == {"sources": ["constant takes exactly 0 source(s), got 1"]}


def test_conditional_equals_and_in():
    assert run("conditional", ["Y"], equals="Y", then=True, **{"else": False}) is True
    assert run("conditional", ["N"], equals="Y", then=True, **{"else": False}) is False
    assert run("conditional", ["N"], equals="Y", then=True) is None
    assert run("conditional", ["b"], then="hit", **{"in": ["a", "b"]}) == "hit"
    assert run("conditional", [{"k": 1}], then="hit", **{"in": [{"k": 1}]}) == "hit"
    both = problems("conditional", then=1, equals=1, **{"in": [1]})
    assert both == {"args": ["expected exactly one of equals or in"]}
    assert problems("conditional", equals=1) == {"args.then": ["expected the value when the condition holds"]}


def test_jsonata_over_the_whole_event():
    assert run("jsonata", [{"a": {"b": [1, 2, 3]}}], sources=["a.b"], expr="$sum(a.b)") == 6


def test_jsonata_is_bounded_per_evaluation_not_from_compilation():
    fn = build(FieldRule("out", (), "jsonata", {"expr": "a & '!'", "timeout_ms": 20}), {})
    # jsonata-python's own bounds start their clock when they are set: bounds set once at compilation would
    # fail every evaluation made more than timeout_ms after it
    time.sleep(0.05)
    assert fn({"a": "x"}) == "x!"


def test_jsonata_runaway_expression_is_stopped():
    fn = build(FieldRule("out", (), "jsonata", {"expr": "($f := function($n){ $n + $f($n) }; $f(1))",
                                                "max_depth": 20}), {})
    with pytest.raises(FnError, match="JSONata") as caught:
        fn({})
    assert caught.value.source_index is None


def test_jsonata_arguments():
    found = problems("jsonata", sources=(), expr="a.(", timeout_ms=5000)
    assert found["args.expr"][0].startswith("not a JSONata expression")
    assert found["args.timeout_ms"] == ["expected a whole number from 1 to 1000"]


def test_unknown_function_and_arity():
    assert problems("eval") == {"fn": ["unknown function 'eval'"]}
    assert problems("rename", sources=()) == {"sources": ["rename takes exactly 1 source(s), got 0"]}
    assert problems("concat", sources=()) == {"sources": ["concat takes at least 1 source(s), got 0"]}
