"""extract_fields: the flattened fields the catalogue searches, for Avro, JSON Schema and Protobuf."""

import json

from onboarding.schemas.fields import MAX_FIELDS, FieldEntry, extract_fields, identifier_words

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
    fields = extract_fields(json.dumps(PATIENT), "AVRO")
    assert paths(fields) == ["id", "patient", "patient.birth_date", "patient.address", "patient.address.zip",
                             "visits", "visits[].code", "labels", "previous"]
    birth = fields[2]
    assert birth == FieldEntry(path="patient.birth_date", name="birth_date", doc="Date of birth of the patient",
                               type="int (date)")
    assert fields[1].type == "record Patient"
    assert fields[3].type == "null|record Address"


def test_avro_named_type_reused_or_recursive_is_expanded_once():
    linked = {"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}]}
    assert paths(extract_fields(json.dumps(linked), "AVRO")) == ["value", "next"]


def test_avro_top_level_union_of_records_lists_every_branch():
    union = [{"type": "record", "name": "A", "fields": [{"name": "a", "type": "int"}]},
             {"type": "record", "name": "B", "fields": [{"name": "b", "type": "int"}]}]
    assert paths(extract_fields(json.dumps(union), "AVRO")) == ["a", "b"]


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
    fields = extract_fields(json.dumps(schema), "JSON")
    assert paths(fields) == ["patient", "patient.birthDate", "visits", "visits[].code"]
    assert fields[0].doc == "Patient"
    assert fields[1] == FieldEntry(path="patient.birthDate", name="birthDate", doc="Date of birth of the patient",
                                   type="string (date)")


def test_json_schema_refs_to_defs_are_followed_and_cycles_end():
    schema = {
        "type": "object",
        "properties": {"home": {"$ref": "#/$defs/address"}, "parent": {"$ref": "#/definitions/person"}},
        "$defs": {"address": {"type": "object", "description": "Where someone lives",
                              "properties": {"zip": {"type": "string", "description": "Postal code"}}}},
        "definitions": {"person": {"type": "object", "properties": {
            "name": {"type": "string"}, "parent": {"$ref": "#/definitions/person"}}}},
    }
    fields = extract_fields(json.dumps(schema), "JSON")
    assert paths(fields) == ["home", "home.zip", "parent", "parent.name", "parent.parent"]
    assert fields[0].doc == "Where someone lives"
    assert fields[0].type == "object address"


def test_json_schema_branches_contribute_their_properties():
    schema = {"oneOf": [{"properties": {"card": {"type": "string"}}}, {"properties": {"iban": {"type": "string"}}}]}
    assert paths(extract_fields(json.dumps(schema), "JSON")) == ["card", "iban"]


def test_protobuf_fields_are_qualified_by_their_message():
    text = 'syntax = "proto3";\nmessage Payment {\n  string id = 1;\n  Amount amount = 2;\n' \
           '  message Amount { int64 cents = 1; }\n}\n'
    assert set(paths(extract_fields(text, "PROTOBUF"))) == {"Payment.id", "Payment.amount", "Payment.Amount.cents"}


def test_unreadable_text_gives_no_fields():
    assert extract_fields("{not json", "AVRO") == []
    assert extract_fields("message {", "PROTOBUF") == []
    assert extract_fields('"string"', "AVRO") == []


def test_a_huge_schema_is_cut_at_the_limit():
    schema = {"type": "record", "name": "Wide",
              "fields": [{"name": f"f{i}", "type": "int"} for i in range(MAX_FIELDS + 50)]}
    assert len(extract_fields(json.dumps(schema), "AVRO")) == MAX_FIELDS


def test_identifier_words_split_separators_and_camel_case():
    assert identifier_words("birthDate") == "birth date"
    assert identifier_words("patient.birth_date") == "patient birth date"
    assert identifier_words("payments.card-authorised") == "payments card authorised"
    assert identifier_words("HTTPStatus") == "http status"
