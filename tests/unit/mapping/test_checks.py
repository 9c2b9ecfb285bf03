"""check_mapping: every save check, each reported at its path, and the required-field coverage."""

import json

from onboarding.mapping.checks import check_mapping, coverage
from onboarding.mapping.rules import FieldRule, rules_from_json
from onboarding.mapping.schema_fields import fields

from . import golden, golden_text

CANONICAL = fields(golden_text("std_patient.avsc"), "AVRO")
LAB_A = fields(golden_text("lab_a.avsc"), "AVRO")
CLINIC_B = fields(golden_text("clinic_b.schema.json"), "JSON")
TABLES = golden("code_tables.json")
COMPLETE = rules_from_json(golden("lab_a.rules.json"))


def check(*extra, rules=None, tables=TABLES):
    return check_mapping([*(COMPLETE if rules is None else rules), *extra], LAB_A, CANONICAL, tables)


def test_schema_fields_have_kinds_required_flags_and_symbols():
    assert CANONICAL["patient.birth_date"].kinds == {"int"} and CANONICAL["patient.birth_date"].logical == "date"
    assert CANONICAL["patient.weight_kg"].kinds == {"null", "float"}
    assert CANONICAL["patient.gender"].symbols == ("male", "female", "other", "unknown")
    assert sorted(p for p, f in CANONICAL.items() if f.required) == [
        "meta", "meta.source_system", "patient", "patient.birth_date", "patient.gender", "patient.id",
        "patient.name", "patient.name.family"]
    assert sorted(p for p, f in CLINIC_B.items() if f.required) == ["birthDate", "genderCode", "lastName",
                                                                    "patientNumber"]
    assert CLINIC_B["genderCode"].symbols == ("1", "2", "3", "9")
    assert CLINIC_B["admission.timestamp"].logical == "date-time"


def test_a_complete_mapping_has_no_problems_and_full_coverage():
    assert check() == {}
    assert coverage(COMPLETE, CANONICAL).to_json()["missing"] == []


def test_source_that_does_not_exist_with_a_suggestion():
    rules = [*COMPLETE]
    rules[5] = FieldRule("patient.weight_kg", ("PID.weight_lbs",), "unit", {"from": "lb", "to": "kg"})
    found = check(rules=rules)
    assert found == {"rules[5].sources[0]": [
        "no field PID.weight_lbs in the source schema (did you mean PID.weight_lb?)"]}


def test_target_that_does_not_exist():
    assert check(FieldRule("patient.birthdate", ("PID.dob",), "rename")) == {
        "rules[10].target": ["no field patient.birthdate in the canonical schema (did you mean patient.birth_date?)"]}


def test_date_parse_needs_a_text_source():
    found = check(rules=[*COMPLETE[:3], FieldRule("patient.birth_date", ("PID.weight_lb",), "date_parse",
                                                   {"formats": ["%Y"], "output": "epoch_days"}), *COMPLETE[4:]])
    assert found == {"rules[3].sources[0]": ["date_parse needs a string source; PID.weight_lb is null|double"]}


def test_date_parse_output_must_match_the_logical_type_of_the_target():
    rules = [*COMPLETE]
    rules[3] = FieldRule("patient.birth_date", ("PID.dob",), "date_parse", {"formats": ["%Y%m%d"], "output": "date"})
    rules[9] = FieldRule("meta.admitted_at", ("PV1.admit",), "date_parse", {"formats": ["%Y"], "output": "epoch_days"})
    assert check(rules=rules) == {
        "rules[3].args.output": ["patient.birth_date is int (date): use output epoch_days"],
        "rules[9].args.output": ["meta.admitted_at is null|long (timestamp-millis): use output epoch_ms"]}


def test_unit_conversion_needs_a_numeric_source():
    assert check(FieldRule("patient.height_cm", ("PID.name",), "unit", {"from": "in", "to": "cm"}))[
        "rules[10].sources[0]"] == ["unit needs a float or int source; PID.name is string"]


def test_cast_output_must_fit_the_target():
    found = check(FieldRule("patient.deceased", ("PID.death_flag",), "cast", {"to": "string"}))
    assert found["rules[10].fn"] == ["cast gives string; patient.deceased is boolean"]


def test_constant_and_conditional_values_must_fit_the_target():
    found = check(FieldRule("patient.weight_kg", (), "constant", {"value": "heavy"}),
                  FieldRule("patient.id", ("PID.sex",), "conditional", {"equals": "M", "then": 1, "else": True}))
    assert found["rules[10].fn"] == ["constant gives string; patient.weight_kg is null|double"]
    assert found["rules[11].fn"] == ["conditional gives bool or int; patient.id is string"]


def test_a_target_filled_twice():
    assert check(FieldRule("patient.id", ("PID.name",), "rename"))["rules[10].target"] == [
        "patient.id is already filled by rules[0]"]


def test_a_target_inside_another_rules_target():
    found = check(FieldRule("patient.name", ("PID.name",), "rename"))
    assert found["rules[1].target"] == ["patient.name.family is inside rules[10]'s target patient.name"]
    assert found["rules[2].target"] == ["patient.name.given is inside rules[10]'s target patient.name"]


def test_code_table_must_exist_and_give_symbols_of_the_target_enum():
    assert check(tables={"clinic_b_gender": TABLES["clinic_b_gender"]})["rules[4].args.table"] == [
        "no code table 'lab_a_sex'; known: clinic_b_gender"]
    tables = {**TABLES, "lab_a_sex": {"M": "male", "F": "F"}}
    assert check(tables=tables) == {"rules[4].args.table": ["gives values that are not symbols of patient.gender: F"]}


def test_required_targets_without_a_rule():
    partial = [r for r in COMPLETE if r.target not in ("patient.gender", "meta.source_system")]
    found = check(rules=partial)
    assert found == {"targets.meta.source_system": ["required by the canonical schema, and no rule fills it"],
                     "targets.patient.gender": ["required by the canonical schema, and no rule fills it"]}
    report = coverage(partial, CANONICAL).to_json()
    assert report["missing"] == ["meta.source_system", "patient.gender"]
    assert "patient.id" in report["covered"] and "meta" in report["covered"]


def test_argument_problems_are_reported_at_their_rule():
    assert check(FieldRule("patient.weight_kg", ("PID.weight_lb",), "unit", {"from": "stone", "to": "kg"}))[
        "rules[10].args"][0].startswith("no conversion from 'stone' to 'kg'")


def test_json_rules_with_shape_problems():
    assert check_mapping([{"target": 3}], LAB_A, CANONICAL, TABLES) == {
        "rules[0].target": ["expected a dotted field path"]}


def test_arrays_are_not_mapped_yet():
    assert check(FieldRule("patient.id", ("PID[].id",), "rename"))["rules[10].sources[0]"] == [
        "expected a dotted path of field names (arrays and maps are not mapped yet)"]


def test_the_json_schema_system_checks_clean():
    rules = rules_from_json(golden("clinic_b.rules.json"))
    assert check_mapping(rules, CLINIC_B, CANONICAL, TABLES) == {}
    assert json.dumps(coverage(rules, CANONICAL).to_json())
