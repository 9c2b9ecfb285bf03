"""schema_fields: a schema's fields as paths with docs, types and depths, for Avro, JSON Schema and Protobuf.

The topic page, sensitive-field tags, peek masking and the catalogue's search all read these paths.
"""

import json

from onboarding.schemas.field_paths import MAX_FIELDS, FieldInfo, field_paths, identifier_words, schema_fields

PATIENT = {
    "type": "record", "name": "Admission", "namespace": "clinical",
    "fields": [
        {"name": "id", "type": "string", "doc": "Admission identifier"},
        {"name": "patient", "type": {
            "type": "record", "name": "Patient",
            "fields": [
                {"name": "birth_date", "type": {"type": "int", "logicalType": "date"},
                 "doc": "Date of birth of the patient"},
                {"name": "address", "type": ["null", {
                    "type": "record", "name": "Address",
                    "fields": [{"name": "zip", "type": "string", "doc": "Postal code"}]}], "default": None},
            ]}},
        {"name": "visits", "type": {"type": "array", "items": {
            "type": "record", "name": "Visit", "fields": [{"name": "code", "type": "string"}]}}},
        {"name": "labels", "type": {"type": "map", "values": "string"}},
        {"name": "previous", "type": ["null", "Patient"], "default": None},
    ],
}


def paths(fields):
    return [f.path for f in fields]


def test_avro_nested_records_arrays_and_unions_are_flattened_with_paths():
    fields = schema_fields(json.dumps(PATIENT), "AVRO")
    # "previous" refers to the named type Patient: its fields are listed under it too
    assert paths(fields) == ["id", "patient", "patient.birth_date", "patient.address", "patient.address.zip",
                             "visits", "visits[].code", "labels", "previous", "previous.birth_date",
                             "previous.address", "previous.address.zip"]
    birth = fields[2]
    assert birth == FieldInfo(path="patient.birth_date", name="birth_date", doc="Date of birth of the patient",
                              type="int (date)", depth=1)
    assert fields[1].type == "record Patient"
    assert fields[3].type == "null|record Address"


def test_avro_named_type_reused_or_recursive_is_expanded_once():
    linked = {"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}]}
    assert paths(schema_fields(json.dumps(linked), "AVRO")) == ["value", "next"]


def test_avro_top_level_union_of_records_lists_every_branch():
    union = [{"type": "record", "name": "A", "fields": [{"name": "a", "type": "int"}]},
             {"type": "record", "name": "B", "fields": [{"name": "b", "type": "int"}]}]
    assert paths(schema_fields(json.dumps(union), "AVRO")) == ["a", "b"]


def test_json_schema_nested_properties_items_and_docs():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {
            "patient": {"type": "object", "title": "Patient", "properties": {
                "birthDate": {"type": "string", "format": "date", "description": "Date of birth of the patient"}}},
            "visits": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string", "description": "Visit code"}}}},
        },
    }
    fields = schema_fields(json.dumps(schema), "JSON")
    assert paths(fields) == ["patient", "patient.birthDate", "visits", "visits[].code"]
    assert fields[0].doc == "Patient"
    assert fields[1] == FieldInfo(path="patient.birthDate", name="birthDate", doc="Date of birth of the patient",
                                  type="string (date)", depth=1)


def test_json_schema_refs_to_defs_are_followed_and_cycles_end():
    schema = {
        "type": "object",
        "properties": {"home": {"$ref": "#/$defs/address"}, "parent": {"$ref": "#/definitions/person"}},
        "$defs": {"address": {"type": "object", "description": "Where someone lives",
                              "properties": {"zip": {"type": "string", "description": "Postal code"}}}},
        "definitions": {"person": {"type": "object", "properties": {
            "name": {"type": "string"}, "parent": {"$ref": "#/definitions/person"}}}},
    }
    fields = schema_fields(json.dumps(schema), "JSON")
    assert paths(fields) == ["home", "home.zip", "parent", "parent.name", "parent.parent"]
    assert fields[0].doc == "Where someone lives"
    assert fields[0].type == "object address"


def test_json_schema_branches_contribute_their_properties():
    schema = {"oneOf": [{"properties": {"card": {"type": "string"}}}, {"properties": {"iban": {"type": "string"}}}]}
    assert paths(schema_fields(json.dumps(schema), "JSON")) == ["card", "iban"]


def test_protobuf_nested_message_fields_are_listed_under_the_field_that_holds_them():
    text = 'syntax = "proto3";\nmessage Payment {\n  string id = 1;\n  Amount amount = 2;\n' \
           '  message Amount { int64 cents = 1; }\n}\n'
    assert set(paths(schema_fields(text, "PROTOBUF"))) == {"id", "amount", "amount.cents"}


def test_unreadable_text_gives_no_fields():
    assert schema_fields("{not json", "AVRO") == []
    assert schema_fields("{not json", "JSON") == []
    assert schema_fields("message {", "PROTOBUF") == []
    assert schema_fields('"string"', "AVRO") == []


def test_a_huge_schema_is_cut_at_the_limit():
    schema = {"type": "record", "name": "Wide",
              "fields": [{"name": f"f{i}", "type": "int"} for i in range(MAX_FIELDS + 50)]}
    assert len(schema_fields(json.dumps(schema), "AVRO")) == MAX_FIELDS


def test_identifier_words_split_separators_and_camel_case():
    assert identifier_words("birthDate") == "birth date"
    assert identifier_words("patient.birth_date") == "patient birth date"
    assert identifier_words("payments.card-authorised") == "payments card authorised"
    assert identifier_words("HTTPStatus") == "http status"


ADMISSION = {
    "type": "record", "name": "Admission", "namespace": "clinical",
    "fields": [
        {"name": "id", "type": "string", "doc": "Admission id"},
        {"name": "patient", "type": {"type": "record", "name": "Patient", "fields": [
            {"name": "name", "type": "string", "doc": "Full name"},
            {"name": "home", "type": {"type": "record", "name": "Address", "fields": [
                {"name": "zip", "type": "string"}]}},
        ]}},
        {"name": "billing", "type": ["null", "Address"], "default": None},
        {"name": "visits", "type": {"type": "array", "items": {"type": "record", "name": "Visit", "fields": [
            {"name": "code", "type": "string"}]}}},
        {"name": "next", "type": ["null", "Admission"], "default": None},
    ],
}


def test_avro_fields_have_paths_docs_types_and_depths():
    fields = {f.path: f for f in schema_fields(json.dumps(ADMISSION), "AVRO")}

    assert list(fields)[:5] == ["id", "patient", "patient.name", "patient.home", "patient.home.zip"]
    assert fields["id"].doc == "Admission id" and fields["id"].type == "string" and fields["id"].depth == 0
    assert fields["patient.name"].depth == 1 and fields["patient.home.zip"].depth == 2
    assert fields["visits"].type == "array<record Visit>"


def test_avro_named_type_references_and_arrays_and_recursion():
    paths = field_paths(json.dumps(ADMISSION), "AVRO")

    assert {"billing.zip", "visits[].code", "next"} <= paths
    assert not any(p.startswith("next.") for p in paths)  # the record itself is not expanded again


def test_json_schema_properties_items_and_refs():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "$defs": {"code": {"type": "string", "description": "ICD-10 code"}},
              "properties": {"patient": {"type": "object", "title": "Patient",
                                         "properties": {"ssn": {"type": "string"}}},
                             "diagnoses": {"type": "array", "items": {
                                 "type": "object", "properties": {"code": {"$ref": "#/$defs/code"}}}}}}

    fields = {f.path: f for f in schema_fields(json.dumps(schema), "JSON")}

    assert set(fields) == {"patient", "patient.ssn", "diagnoses", "diagnoses[].code"}
    assert fields["diagnoses[].code"].doc == "ICD-10 code" and fields["patient"].doc == "Patient"


def test_protobuf_fields_of_the_first_message_with_nested_messages():
    text = ('syntax = "proto3";\npackage clinical;\n\nmessage Admission {\n  string id = 1;\n'
            '  repeated Visit visits = 2;\n}\n\nmessage Visit {\n  string code = 1;\n}\n')

    assert field_paths(text, "PROTOBUF") == {"id", "visits", "visits[].code"}
