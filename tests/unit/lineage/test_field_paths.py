"""Schema fields as paths with docs and types, for Avro, JSON Schema and Protobuf."""

import json

from onboarding.schemas.field_paths import field_paths, schema_fields

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


def test_unreadable_text_gives_no_fields():
    assert schema_fields("{not json", "AVRO") == []
    assert schema_fields("{not json", "JSON") == []
    assert schema_fields("message {", "PROTOBUF") == []
