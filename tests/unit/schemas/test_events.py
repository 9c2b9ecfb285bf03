"""check_event: sample events against the Admission schema in each format, every error reported with its path."""

import json

import pytest

from onboarding.schemas.events import EventProblem, check_event

from . import ADMISSION, ADMISSION_JSON_SCHEMA, ADMISSION_PROTO, admission, field, text

GOOD = {
    "patient_id": "MRN-1001",
    "age": 47,
    "ward": "CARDIOLOGY",
    "address": {"street": "1 Harbour Rd", "zip": 4021, "city": None},
    "note": None,
    "admitted_at": 1_717_200_000_000,
    "contacts": [],
}


def avro(event: object, schema: dict = ADMISSION) -> list[str]:
    return [str(p) for p in check_event(text(schema), "AVRO", json.dumps(event))]


def with_(**changes) -> dict:
    return {**GOOD, **changes}


# ---------------------------------------------------------------------------------------------- Avro


def test_a_good_avro_event_has_no_problems():
    assert avro(GOOD) == []


def test_avro_reports_every_error_at_once_with_paths():
    event = with_(age="47", address={"street": "1 Harbour Rd", "zip": "x"}, contacts=[{"zip": 1}], extra=True)
    del event["ward"]
    assert avro(event) == [
        "$.age: expected int, got string '47'",
        "$.ward: missing required field (no default)",
        "$.address.zip: expected int, got string 'x'",
        "$.contacts[0].street: missing required field (no default)",
        "$.extra: unknown field: record Admission has no field 'extra'",
    ]


def test_avro_fields_with_defaults_may_be_left_out():
    event = dict(GOOD)
    del event["note"], event["contacts"]
    assert avro(event) == []


@pytest.mark.parametrize("note", [None, "allergic to penicillin", {"string": "allergic to penicillin"}])
def test_avro_union_values_plain_or_wrapped(note):
    assert avro(with_(note=note)) == []


def test_avro_union_value_matching_no_branch():
    assert avro(with_(note=12)) == ["$.note: expected one of [null, string], got number 12"]
    assert avro(with_(note={"int": 12})) == ["$.note: expected one of [null, string], got object"]


def test_avro_record_inside_a_union_reports_its_own_field_errors():
    schema = admission()
    field(schema, "address")["type"] = ["null", field(schema, "address")["type"]]
    assert avro(with_(address={"street": 5, "zip": 1}), schema) == ["$.address.street: expected string, got number 5"]
    assert avro(with_(address={"org.hospital.Address": {"street": "x"}}), schema) == [
        '$.address["org.hospital.Address"].zip: missing required field (no default)'
    ]
    assert avro(with_(address=None), schema) == []


def test_avro_enum_symbol_with_suggestion():
    assert avro(with_(ward="Cardiology")) == [
        "$.ward: 'Cardiology' is not a symbol of enum Ward (allowed: ICU, CARDIOLOGY, MATERNITY) "
        "(did you mean 'CARDIOLOGY'?)"
    ]


def test_avro_logical_types_are_checked_on_their_underlying_type():
    assert avro(with_(admitted_at="2024-06-01T00:00:00Z")) == [
        "$.admitted_at: expected long (timestamp-millis), got string '2024-06-01T00:00:00Z'"
    ]


def test_avro_numbers_booleans_and_ranges():
    assert avro(with_(age=True)) == ["$.age: expected int, got boolean true"]
    assert avro(with_(age=4.5)) == ["$.age: expected int, got number 4.5"]
    assert avro(with_(age=2**31)) == [f"$.age: {2**31} is out of range for int (-2147483648 to 2147483647)"]


def test_avro_arrays_and_maps():
    schema = admission()
    schema["fields"].append({"name": "vitals", "type": {"type": "map", "values": "double"}, "default": {}})
    event = with_(contacts={"street": "x", "zip": 1}, vitals={"pulse": 72, "temp c": "high"})
    assert avro(event, schema) == [
        "$.contacts: expected array<record Address>, got object",
        '$.vitals["temp c"]: expected double, got string \'high\'',
    ]


def test_avro_bytes_and_fixed():
    schema = admission()
    schema["fields"].append({"name": "scan", "type": "bytes"})
    schema["fields"].append({"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}})
    assert avro(with_(scan="\u00ff\u0000", hash="abcd"), schema) == []
    assert avro(with_(scan="€", hash="abc"), schema) == [
        "$.scan: bytes values are written as a string of characters \\u0000-\\u00ff",
        "$.hash: fixed Hash needs exactly 4 bytes, got 3",
    ]


def test_invalid_event_json_is_one_problem_with_line_and_column():
    assert check_event(text(ADMISSION), "AVRO", '{\n  "age": 4,\n  "ward": ICU\n}') == [
        EventProblem("$", "The event is not valid JSON: Expecting value. (line 3, column 11)")
    ]


def test_an_invalid_schema_or_format_is_one_problem_not_an_exception():
    [problem] = check_event('{"type": "strng"}', "AVRO", "{}")
    assert problem.path == "$" and "did you mean 'string'?" in problem.message
    assert check_event("{}", "XML", "{}") == [
        EventProblem("$", "Unknown schema format 'XML'; choose AVRO, JSON or PROTOBUF.")
    ]


# ---------------------------------------------------------------------------------------------- JSON Schema


def jsonschema_event(event: object) -> list[str]:
    return [str(p) for p in check_event(json.dumps(ADMISSION_JSON_SCHEMA), "JSON", json.dumps(event))]


def test_a_good_json_event_has_no_problems():
    assert jsonschema_event({"patient_id": "MRN-1", "age": 3, "ward": "ICU", "tags": ["a"]}) == []


def test_json_schema_reports_every_error_with_dollar_paths():
    event = {"patient_id": 7, "ward": "ER", "address": {"street": "x"}, "tags": ["ok", 2], "bed": "A1"}
    assert jsonschema_event(event) == [
        "$.address.zip: missing required property",
        "$.age: missing required property",
        "$.bed: unknown property: the schema allows no others",
        "$.patient_id: expected string, got number 7",
        "$.tags[1]: expected string, got number 2",
        "$.ward: 'ER' is not one of ['ICU', 'CARDIOLOGY', 'MATERNITY']",
    ]


def test_json_schema_checks_formats():
    schema = {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}}
    assert [p.path for p in check_event(json.dumps(schema), "JSON", '{"email": "nobody"}')] == ["$.email"]


# ---------------------------------------------------------------------------------------------- Protobuf


def protobuf_event(event: object, schema: str = ADMISSION_PROTO) -> list[str]:
    return [str(p) for p in check_event(schema, "PROTOBUF", json.dumps(event))]


def test_a_good_protobuf_event_has_no_problems():
    event = {"patientId": "MRN-1", "age": 3, "ward": "ICU", "address": {"street": "x", "zip": "4021"},
             "tags": ["a"], "counters": {"visits": "12"}, "phone": "+31 20 555"}
    assert protobuf_event(event) == []
    assert protobuf_event({"patient_id": "MRN-1", "ward": 1, "counters": {"visits": 12}}) == []


def test_protobuf_reports_every_error_against_the_first_message():
    event = {"age": "forty", "ward": "ICUU", "address": {"zip": 4021, "floor": 2}, "tags": "a",
             "counters": {"visits": "many"}, "phone": "1", "email": "e@x", "bed": 1}
    assert protobuf_event(event) == [
        "$.age: expected int32, got string 'forty'",
        "$.ward: 'ICUU' is not a value of enum Ward (did you mean 'ICU'?)",
        "$.address.zip: expected string, got number 4021",
        "$.address.floor: unknown field: message Admission.Address has no field 'floor'",
        "$.tags: expected a list (repeated string), got string 'a'",
        "$.counters.visits: expected int64, got string 'many'",
        "$.email: only one field of oneof contact may be set ('phone' is set too)",
        "$.bed: unknown field: message Admission has no field 'bed'",
    ]


def test_protobuf_event_must_be_an_object_and_the_file_must_have_a_message():
    assert protobuf_event([1]) == ["$: expected an object for message Admission, got array of 1 item"]
    assert protobuf_event({}, 'syntax = "proto3";\nenum Ward { ICU = 0; }\n') == [
        "$: the schema defines no message to check the event against"
    ]


def test_protobuf_proto2_required_fields_must_be_present():
    schema = 'syntax = "proto2";\nmessage Visit {\n  required string id = 1;\n  optional int32 bed = 2;\n}\n'
    assert protobuf_event({"bed": 3}, schema) == ["$.id: missing required field"]
