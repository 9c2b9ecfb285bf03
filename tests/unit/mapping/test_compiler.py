"""compile_mapping: rules to closures once, outputs with provenance, failures that name rule, target and source,
and the rule list's JSON form."""

import pytest

from onboarding.mapping import rules as rule_format
from onboarding.mapping.compiler import compile_mapping
from onboarding.mapping.rules import FieldRule, MappingError, RuleFormatError

RULES = [
    FieldRule("patient.id", ("PID.id",), "rename"),
    FieldRule("patient.birth_date", ("PID.dob",), "date_parse", {"formats": ["%Y%m%d"]}),
    FieldRule("patient.gender", ("PID.sex",), "code", {"table": "sex"}),
    FieldRule("patient.name", ("PID.family", "PID.given"), "concat", {"sep": ", "}),
    FieldRule("kind", (), "constant", {"value": "person"}),
    FieldRule("deep.a.b.c", ("x.y.z",), "rename"),
]
TABLES = {"sex": {"M": "male", "F": "female"}}
EVENT = {"PID": {"id": "7", "dob": "19800131", "sex": "F", "family": "Doe", "given": "Jane"}, "x": {"y": {"z": 1}}}


def test_compiled_mapping_builds_nested_output():
    assert compile_mapping(RULES, TABLES)(EVENT) == {
        "patient": {"id": "7", "birth_date": "1980-01-31", "gender": "female", "name": "Doe, Jane"},
        "kind": "person", "deep": {"a": {"b": {"c": 1}}}}


def test_missing_sources_leave_the_target_out():
    out = compile_mapping(RULES, TABLES)({"PID": "not an object"})
    assert out == {"kind": "person"}


def test_provenance_names_rule_function_and_sources_of_written_fields_only():
    mapping = compile_mapping(RULES, TABLES)
    out, provenance = mapping.map_with_provenance({"PID": {"id": "7", "sex": "M"}})
    assert out == {"patient": {"id": "7", "gender": "male"}, "kind": "person"}
    assert {p: v.to_json() for p, v in provenance.items()} == {
        "patient.id": {"rule": 0, "fn": "rename", "sources": ["PID.id"]},
        "patient.gender": {"rule": 2, "fn": "code", "sources": ["PID.sex"]},
        "kind": {"rule": 4, "fn": "constant", "sources": []},
    }


def test_provenance_of_a_target_filled_twice_is_the_rule_that_wrote_last():
    rules = [FieldRule("a", ("x",), "rename"), FieldRule("a", ("y",), "rename")]
    _, provenance = compile_mapping(rules).map_with_provenance({"x": 1})
    assert provenance["a"].rule_index == 0
    out, provenance = compile_mapping(rules).map_with_provenance({"x": 1, "y": 2})
    assert out == {"a": 2} and provenance["a"].rule_index == 1


def test_failure_names_rule_index_target_and_source_path():
    with pytest.raises(MappingError) as caught:
        compile_mapping(RULES, TABLES)({"PID": {"dob": "1980-01-31"}})
    error = caught.value
    assert (error.rule_index, error.target, error.source) == (1, "patient.birth_date", "PID.dob")
    assert error.headers() == {"map.error.rule": "1", "map.error.target": "patient.birth_date",
                               "map.error.source": "PID.dob",
                               "map.error.message": "'1980-01-31' matches none of the formats %Y%m%d"}


def test_failure_of_an_unknown_code():
    with pytest.raises(MappingError, match=r"rules\[2\] patient.gender from PID.sex: code 'X' is not in table sex"):
        compile_mapping(RULES, TABLES)({"PID": {"sex": "X"}})


def test_rules_that_cannot_be_built_are_refused_by_path():
    with pytest.raises(RuleFormatError) as caught:
        compile_mapping([FieldRule("a", ("x",), "code", {"table": "nope"}), FieldRule("b[]", ("x{}",), "rename")])
    assert caught.value.problems == {
        "rules[0].args.table": ["no code table 'nope'; known: none"],
        "rules[1].target": ["expected a dotted path of field names (arrays and maps are not mapped yet)"],
        "rules[1].sources[0]": ["expected a dotted path of field names (arrays and maps are not mapped yet)"],
    }


def test_a_target_inside_another_rules_target_is_refused():
    # the inner write would otherwise land in the record the outer rule copied: the source event itself
    with pytest.raises(RuleFormatError) as caught:
        compile_mapping([FieldRule("p", ("PID",), "rename"), FieldRule("p.id", ("x",), "rename")])
    assert caught.value.problems == {"rules[1].target": ["p.id is inside rules[0]'s target p"]}


def test_rules_json_round_trip():
    text = rule_format.dumps(RULES)
    assert rule_format.loads(text) == RULES


@pytest.mark.parametrize(("data", "expected"), [
    ({"no": "list"}, {"rules": ["expected a list of rules"]}),
    ([1], {"rules[0]": ["expected an object with target, sources, fn and args"]}),
    ([{"target": "", "sources": "a", "fn": "exec", "args": [], "code": "x"}], {
        "rules[0]": ["unknown keys: code"], "rules[0].target": ["expected a dotted field path"],
        "rules[0].sources": ["expected a list of dotted field paths"],
        "rules[0].fn": ["unknown function 'exec'; one of rename, cast, date_parse, unit, code, concat, split, "
                        "default, constant, conditional, jsonata"],
        "rules[0].args": ["expected an object"]}),
])
def test_rules_json_shape_problems_by_path(data, expected):
    with pytest.raises(RuleFormatError) as caught:
        rule_format.rules_from_json(data)
    assert caught.value.problems == expected


def test_rules_text_that_is_not_json():
    with pytest.raises(RuleFormatError, match="not JSON"):
        rule_format.loads("[{")
