"""explain_incompatibility: Avro's resolution rules in plain words, per compatibility mode, and the reasons of
JSON Schema and Protobuf."""

import json

import pytest

from onboarding.schemas.diff import explain_incompatibility

from . import ADMISSION, ADMISSION_JSON_SCHEMA, ADMISSION_PROTO, admission, field, proto, text

# ---------------------------------------------------------------------------------------------- Avro reasons


def reasons(new: dict, mode: str, old: dict = ADMISSION) -> list[str]:
    return explain_incompatibility(text(old), text(new), "AVRO", mode)


def with_field(**spec) -> dict:
    new = admission()
    new["fields"].append(spec)
    return new


def without_field(name: str, old: dict = ADMISSION) -> dict:
    new = json.loads(json.dumps(old))
    new["fields"] = [f for f in new["fields"] if f["name"] != name]
    return new


def test_backward_field_added_without_default_is_a_reason():
    [reason] = reasons(with_field(name="bed", type="string"), "BACKWARD")
    assert reason.startswith("Admission.bed: was added without a default, so consumers using the new schema can't "
                             "read records written with the old one")


def test_backward_field_added_with_default_is_fine():
    assert reasons(with_field(name="bed", type=["null", "string"], default=None), "BACKWARD") == []


def test_backward_field_removed_is_fine():
    assert reasons(without_field("age"), "BACKWARD") == []


def test_forward_field_removed_without_default_is_a_reason():
    [reason] = reasons(without_field("age"), "FORWARD")
    assert reason.startswith("Admission.age: was removed, but it has no default in the old schema")


def test_forward_field_removed_with_default_and_field_added_are_fine():
    assert reasons(without_field("note"), "FORWARD") == []
    assert reasons(with_field(name="bed", type="string"), "FORWARD") == []


def test_full_collects_both_directions():
    new = without_field("age", with_field(name="bed", type="string"))
    found = reasons(new, "FULL")
    assert [r.split(":")[0] for r in found] == ["Admission.bed", "Admission.age"]
    assert reasons(new, "FULL_TRANSITIVE") == found
    assert reasons(new, "BACKWARD_TRANSITIVE") == reasons(new, "BACKWARD")
    assert reasons(new, "NONE") == []


@pytest.mark.parametrize(
    ("old_type", "new_type", "backward_ok", "forward_ok"),
    [
        ("int", "long", True, False),
        ("int", "double", True, False),
        ("long", "float", True, False),
        ("string", "bytes", True, True),
        ("long", "int", False, True),
        ("int", "string", False, False),
        ("string", ["null", "string"], True, False),
        (["null", "string", "int"], ["null", "string"], False, True),
    ],
)
def test_type_changes_follow_avro_promotions(old_type, new_type, backward_ok, forward_ok):
    old = admission()
    field(old, "age")["type"] = old_type
    new = admission()
    field(new, "age")["type"] = new_type
    assert (reasons(new, "BACKWARD", old) == []) is backward_ok
    assert (reasons(new, "FORWARD", old) == []) is forward_ok


def test_type_change_reason_explains_the_promotion_rule():
    old = admission()
    field(old, "age")["type"] = "long"
    [reason] = reasons(admission(), "BACKWARD", old)
    assert reason == ("Admission.age: type changed from long to int; consumers using the new schema can't read data "
                      "written with the old one, because long values can't be read as int (Avro only widens int -> "
                      "long -> float -> double, and swaps string and bytes).")


def test_union_branch_removed_is_told_as_values_the_reader_cannot_read():
    old = admission()
    field(old, "note")["type"] = ["null", "string", "int"]
    [reason] = reasons(admission(), "BACKWARD", old)
    assert reason.startswith("Admission.note: old data may hold int values, which the new type [null, string] can't "
                             "read")


def test_enum_symbols_removed_breaks_backward_and_added_breaks_forward():
    new = admission()
    field(new, "ward")["type"]["symbols"] = ["ICU", "CARDIOLOGY", "ONCOLOGY"]
    [backward] = reasons(new, "BACKWARD")
    [forward] = reasons(new, "FORWARD")
    assert backward.startswith("Admission.ward: symbol MATERNITY was removed from enum Ward")
    assert forward.startswith("Admission.ward: symbol ONCOLOGY was added to enum Ward")
    old_with_default = admission()
    field(old_with_default, "ward")["type"]["default"] = "ICU"
    new_with_default = json.loads(json.dumps(new))
    field(new_with_default, "ward")["type"]["default"] = "ICU"
    assert reasons(new_with_default, "FULL", old_with_default) == []


def test_nested_record_field_added_without_default_is_found_through_references():
    new = admission()
    field(new, "address")["type"]["fields"].append({"name": "country", "type": "string"})
    [reason] = reasons(new, "BACKWARD")
    assert reason.startswith("Admission.address.country: was added without a default")


def test_renames_need_an_alias_on_the_reader():
    renamed = admission()
    field(renamed, "ward")["name"] = "unit"
    aliased = admission()
    field(aliased, "ward").update({"name": "unit", "aliases": ["ward"]})
    assert reasons(renamed, "BACKWARD")[0].startswith("Admission.unit: was added without a default")
    assert reasons(aliased, "BACKWARD") == []
    top = admission(name="HospitalAdmission")
    assert "record Admission was renamed to HospitalAdmission" in reasons(top, "BACKWARD")[0]
    assert reasons(admission(name="HospitalAdmission", aliases=["Admission"]), "BACKWARD") == []


# ---------------------------------------------------------------------------------------------- other formats


def test_json_schema_reasons():
    old = ADMISSION_JSON_SCHEMA
    new = json.loads(json.dumps(old))
    new["required"] = ["patient_id", "age", "ward"]
    new["properties"]["age"]["type"] = "number"
    [backward] = explain_incompatibility(json.dumps(old), json.dumps(new), "JSON", "BACKWARD")
    assert backward.startswith("ward: is now required, but old events may not have it")
    [forward] = explain_incompatibility(json.dumps(old), json.dumps(new), "JSON", "FORWARD")
    assert forward.startswith("age: new events may hold number values, which the old schema does not allow")


def test_protobuf_reasons():
    changed = proto(("int32 age = 2;", "string age = 2;"), ("string email = 8;", "string email = 9;"),
                    ("repeated string tags = 5;", ""))
    found = explain_incompatibility(ADMISSION_PROTO, changed, "PROTOBUF", "BACKWARD")
    assert [r.split(":")[0] for r in found] == ["Admission.age", "Admission.email"]
    assert "encoded differently on the wire" in found[0]
    widened = proto(("int32 age = 2;", "int64 age = 2;"))
    assert explain_incompatibility(ADMISSION_PROTO, widened, "PROTOBUF", "FULL") == []
