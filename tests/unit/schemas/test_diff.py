"""diff_schemas: every change kind, in Avro, JSON Schema and Protobuf (the reasons are test_incompatibility.py's)."""

import json

import pytest

from onboarding.schemas.diff import KINDS, Change, FieldInfo, SchemaTextError, diff_schemas, explain_incompatibility

from . import ADMISSION, ADMISSION_JSON_SCHEMA, ADMISSION_PROTO, admission, field, proto, text

OLD = text(ADMISSION)


def avro_changes(new: dict) -> list[Change]:
    return diff_schemas(OLD, text(new), "AVRO")


def described(changes) -> list[str]:
    return [c.describe() for c in changes]


# ---------------------------------------------------------------------------------------------- Avro diff


def test_identical_schemas_have_no_changes_whatever_the_spacing():
    assert diff_schemas(OLD, json.dumps(ADMISSION), "AVRO") == []


def test_avro_field_added_and_removed():
    new = admission()
    new["fields"] = [f for f in new["fields"] if f["name"] != "age"]
    new["fields"].append({"name": "bed", "type": "string"})
    new["fields"].append({"name": "discharged", "type": ["null", "long"], "default": None})
    assert avro_changes(new) == [
        Change("field_removed", "Admission.age", old=FieldInfo("int")),
        Change("field_added", "Admission.bed", new=FieldInfo("string")),
        Change("field_added", "Admission.discharged", new=FieldInfo("[null, long]", True, None)),
    ]
    assert described(avro_changes(new)) == [
        "field Admission.age removed (it had type int, no default)",
        "field Admission.bed added (type string, no default)",
        "field Admission.discharged added (type [null, long], default null)",
    ]


def test_avro_type_changes_compare_normalised_descriptions():
    new = admission()
    field(new, "age")["type"] = {"type": "long"}  # the same as "long"
    field(new, "patient_id")["type"] = ["null", "string"]
    field(new, "admitted_at")["type"] = {"type": "long", "logicalType": "timestamp-micros"}
    assert described(avro_changes(new)) == [
        "field Admission.patient_id changed type from string to [null, string]",
        "field Admission.age changed type from int to long",
        "field Admission.admitted_at changed type from long (timestamp-millis) to long (timestamp-micros)",
    ]


def test_avro_default_added_removed_changed_and_doc_changed():
    new = admission(doc="An admission.")
    field(new, "age")["default"] = 0
    field(new, "contacts").pop("default")
    field(new, "note")["default"] = "none"
    field(new, "patient_id")["doc"] = "MRN"
    kinds = [(c.kind, c.path, c.old, c.new) for c in avro_changes(new)]
    assert kinds == [
        ("doc_changed", "Admission", "A patient admitted to a ward.", "An admission."),
        ("doc_changed", "Admission.patient_id", "Hospital patient number", "MRN"),
        ("default_added", "Admission.age", None, 0),
        ("default_changed", "Admission.note", None, "none"),
        ("default_removed", "Admission.contacts", [], None),
    ]
    assert Change("default_added", "Admission.age", new=0).describe() == "field Admission.age got a default: 0"
    assert Change("default_removed", "Admission.contacts", old=[]).describe() == (
        "field Admission.contacts lost its default (was [])"
    )


def test_avro_enum_symbols_added_and_removed():
    new = admission()
    field(new, "ward")["type"]["symbols"] = ["ICU", "MATERNITY", "ONCOLOGY"]
    assert described(avro_changes(new)) == [
        "symbol ONCOLOGY added to Admission.ward",
        "symbol CARDIOLOGY removed from Admission.ward",
    ]


def test_avro_changes_inside_nested_records_array_items_and_named_references():
    new = admission()
    address = field(new, "address")["type"]
    field(address, "zip")["type"] = "string"
    address["fields"].append({"name": "country", "type": "string", "default": "NL"})
    # contacts is an array of the same named type Address; the change is seen through the reference too
    assert described(avro_changes(new)) == [
        "field Admission.address.zip changed type from int to string",
        'field Admission.address.country added (type string, default "NL")',
    ]


@pytest.mark.parametrize(
    ("wrap", "path"),
    [
        (lambda t: {"type": "array", "items": t}, "Admission.visits[]"),
        (lambda t: {"type": "map", "values": t}, "Admission.visits{}"),
        (lambda t: ["null", t], "Admission.visits"),
    ],
)
def test_avro_records_are_followed_into_arrays_maps_and_unions(wrap, path):
    visit = {"type": "record", "name": "Visit", "fields": [{"name": "at", "type": "long"}]}
    old = admission()
    old["fields"].append({"name": "visits", "type": wrap(visit)})
    new = json.loads(json.dumps(old))
    new["fields"][-1]["type"] = wrap({**visit, "fields": [{"name": "at", "type": "string"}]})
    assert described(diff_schemas(text(old), text(new), "AVRO")) == [
        f"field {path}.at changed type from long to string"
    ]


def test_avro_renames_by_alias_and_of_the_top_record():
    new = admission(name="HospitalAdmission")
    field(new, "ward").update({"name": "unit", "aliases": ["ward"]})
    assert avro_changes(new) == [
        Change("name_changed", "", "Admission", "HospitalAdmission"),
        Change("name_changed", "HospitalAdmission.ward", "ward", "unit"),
    ]
    assert described(avro_changes(new))[0] == "the top-level schema renamed from Admission to HospitalAdmission"


def test_avro_recursive_schemas_terminate():
    node = {"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "int"}, {"name": "next", "type": ["null", "Node"], "default": None}]}
    new = json.loads(json.dumps(node))
    new["fields"][0]["type"] = "long"
    assert described(diff_schemas(json.dumps(node), json.dumps(new), "AVRO")) == [
        "field Node.value changed type from int to long"
    ]


def test_every_change_kind_has_plain_words():
    for kind in KINDS:
        words = Change(kind, "Admission.ward", "a", "b").describe()
        assert "Admission.ward" in words and kind not in words


# ---------------------------------------------------------------------------------------------- JSON Schema diff


def test_json_schema_diff_follows_properties_items_required_and_descriptions():
    old = ADMISSION_JSON_SCHEMA
    new = json.loads(json.dumps(old))
    props = new["properties"]
    props["age"]["type"] = ["integer", "null"]
    props["ward"]["enum"] = ["ICU", "CARDIOLOGY", "MATERNITY", "ONCOLOGY"]
    props["address"]["properties"]["zip"]["description"] = "Postal code"
    props["address"]["properties"]["zip"]["default"] = "0000"
    props["tags"]["items"]["type"] = "integer"
    props["bed"] = {"type": "string", "default": "A1"}
    del props["address"]["properties"]["street"]
    new["required"] = ["patient_id", "ward"]
    assert described(diff_schemas(json.dumps(old), json.dumps(new), "JSON")) == [
        "ward is now required",
        "age is no longer required",
        "field age changed type from integer to [integer, null]",
        'symbol "ONCOLOGY" added to ward',
        "field address.street removed (it had type string, no default)",
        'field address.zip got a default: "0000"',
        "documentation of address.zip changed",
        "field tags[] changed type from string to integer",
        'field bed added (type string, default "A1")',
    ]


def test_json_schema_diff_resolves_local_refs_and_stops_on_recursion():
    old = {"$defs": {"Node": {"type": "object", "properties": {
        "v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}},
        "$ref": "#/$defs/Node"}
    new = json.loads(json.dumps(old))
    new["$defs"]["Node"]["properties"]["v"]["type"] = "number"
    assert described(diff_schemas(json.dumps(old), json.dumps(new), "JSON")) == [
        "field v changed type from integer to number"
    ]


# ---------------------------------------------------------------------------------------------- Protobuf diff


def proto_changes(*edits) -> list[Change]:
    return diff_schemas(ADMISSION_PROTO, proto(*edits), "PROTOBUF")


def test_protobuf_fields_are_matched_by_number():
    changes = proto_changes(
        ("int32 age = 2;", "int64 age = 2;"),
        ("repeated string tags = 5;", "string labels = 5;"),
        ("string email = 8;", "string email = 10;"),
        ("string zip = 2;", "string zip = 2;\n    string country = 3;"),
        ("map<string, int64> counters = 6;", ""),
    )
    assert described(changes) == [
        "field Admission.age changed type from int32 to int64",
        "Admission.tags renamed from tags to labels",
        "field Admission.labels changed type from repeated string to string",
        "field Admission.counters removed (it had number 6, type map<string, int64>)",
        "field Admission.email moved from number 8 to 10",
        "field Admission.Address.country added (number 3, type string)",
    ]


def test_protobuf_messages_enums_and_their_values():
    changes = proto_changes(
        ("  message Address {\n    string street = 1;\n    string zip = 2;\n  }\n", ""),
        ("Address address = 4;", "string address = 4;"),
        ("  CARDIOLOGY = 2;\n", "  MATERNITY = 3;\n"),
        ("enum Ward {", "message Discharge {\n  string reason = 1;\n}\n\n"
                        "enum Severity {\n  LOW = 0;\n}\n\nenum Ward {"),
    )
    assert [(c.kind, c.path) for c in changes] == [
        ("message_removed", "Admission.Address"),
        ("type_changed", "Admission.address"),
        ("message_added", "Discharge"),
        ("symbol_removed", "Ward"),
        ("symbol_added", "Ward"),
        ("enum_added", "Severity"),
    ]
    removed = diff_schemas(proto(("enum Ward {", "enum Old { X = 0; }\nenum Ward {")), ADMISSION_PROTO, "PROTOBUF")
    assert described(removed) == ["enum Old removed"]


def test_protobuf_required_label_changes_in_proto2():
    old = 'syntax = "proto2";\nmessage Visit {\n  optional string id = 1;\n  required int32 bed = 2;\n}\n'
    new = 'syntax = "proto2";\nmessage Visit {\n  required string id = 1;\n  optional int32 bed = 2;\n}\n'
    assert described(diff_schemas(old, new, "PROTOBUF")) == [
        "Visit.id is now required",
        "Visit.bed is no longer required",
    ]


# ---------------------------------------------------------------------------------------------- bad input


def test_diff_of_an_invalid_schema_raises_naming_which_one():
    with pytest.raises(SchemaTextError, match="The new schema is not valid"):
        diff_schemas(OLD, '{"type": "strng"}', "AVRO")
    with pytest.raises(ValueError, match="Unknown schema format 'XML'"):
        diff_schemas(OLD, OLD, "XML")
    with pytest.raises(ValueError, match="Unknown compatibility mode 'SIDEWAYS'"):
        explain_incompatibility(OLD, OLD, "AVRO", "SIDEWAYS")
