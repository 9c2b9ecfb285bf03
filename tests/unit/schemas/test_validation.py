"""check_schema_text, canonical_text and fingerprint on real and broken schemas in all three formats."""

import json

import pytest

from onboarding.schemas.validation import (
    MAX_SCHEMA_BYTES,
    SchemaProblem,
    SchemaTextError,
    canonical_text,
    check_schema_text,
    fingerprint,
    parsing_canonical_form,
)

from . import ADMISSION, ADMISSION_JSON_SCHEMA, ADMISSION_PROTO, admission, field, text


def messages(problems):
    return [str(p) for p in problems]


# ---------------------------------------------------------------------------------------------- all formats


@pytest.mark.parametrize(
    ("schema", "fmt"),
    [(text(ADMISSION), "AVRO"), (text(ADMISSION_JSON_SCHEMA), "JSON"), (ADMISSION_PROTO, "PROTOBUF")],
)
def test_the_admission_schema_is_valid_in_every_format(schema, fmt):
    assert check_schema_text(schema, fmt) == []
    assert check_schema_text(schema, fmt.lower()) == []


def test_an_unknown_format_is_named_with_the_choices():
    assert messages(check_schema_text("{}", "XML")) == ["Unknown schema format 'XML'; choose AVRO, JSON or PROTOBUF."]


def test_a_2_mb_schema_is_refused_with_both_sizes():
    huge = '{"type": "string", "doc": "' + "x" * 2_000_000 + '"}'
    [problem] = check_schema_text(huge, "AVRO")
    assert f"{len(huge):,} bytes" in problem.message
    assert f"{MAX_SCHEMA_BYTES:,} bytes (1 MiB)" in problem.message


def test_a_schema_of_exactly_the_limit_is_not_refused_for_size():
    exact = '"' + "x" * (MAX_SCHEMA_BYTES - 2) + '"'
    assert "limit" not in " ".join(messages(check_schema_text(exact, "JSON")))


def test_an_empty_schema_is_refused():
    assert messages(check_schema_text("  \n", "AVRO")) == ["The schema is empty."]


def test_problems_read_as_place_then_message():
    assert str(SchemaProblem("boom", line=3, column=5)) == "line 3, column 5: boom"
    assert str(SchemaProblem("boom", line=3)) == "line 3: boom"
    assert str(SchemaProblem("boom", path="fields[2].type")) == "at fields[2].type: boom"
    assert str(SchemaProblem("boom")) == "boom"


# ---------------------------------------------------------------------------------------------- Avro


def test_avro_invalid_json_gives_the_line_and_column():
    broken = '{\n  "type": "record",\n  "name": "Admission",,\n  "fields": []\n}'
    [problem] = check_schema_text(broken, "AVRO")
    assert (problem.line, problem.column) == (3, 23)
    assert problem.message.startswith("The schema is not valid JSON")


def test_avro_record_without_a_name():
    schema = admission()
    del schema["name"]
    assert messages(check_schema_text(text(schema), "AVRO")) == ['a record needs a "name"']


def test_avro_nested_record_without_a_name_points_at_the_field():
    schema = admission()
    del field(schema, "address")["type"]["name"]
    problem, cascade = check_schema_text(text(schema), "AVRO")
    assert problem.path == "fields[3].type"
    assert problem.message == "field 'address': a record needs a \"name\""
    assert cascade.message == "field 'contacts': unknown type 'Address'"  # the nameless record can't be referred to


def test_avro_field_without_a_type():
    schema = admission()
    del field(schema, "age")["type"]
    [problem] = check_schema_text(text(schema), "AVRO")
    assert str(problem) == "at fields[1]: field 'age': has no \"type\""


def test_avro_field_without_a_name():
    schema = admission()
    del field(schema, "age")["name"]
    assert messages(check_schema_text(text(schema), "AVRO")) == [
        "at fields[1]: field 2 of record 'Admission' has no \"name\""
    ]


def test_avro_typo_in_a_primitive_type_suggests_the_close_match():
    schema = admission()
    field(schema, "patient_id")["type"] = "strng"
    [problem] = check_schema_text(text(schema), "AVRO")
    assert problem.path == "fields[0].type"
    assert "unknown type 'strng' (did you mean 'string'?)" in problem.message


def test_avro_typo_in_a_named_type_reference_suggests_the_defined_name():
    schema = admission()
    field(schema, "contacts")["type"]["items"] = "Adress"
    [problem] = check_schema_text(text(schema), "AVRO")
    assert problem.path == "fields[6].type.items"
    assert "did you mean 'Address'?" in problem.message


@pytest.mark.parametrize(
    ("type_", "default", "expected"),
    [
        ("int", "x", "expected int, got string 'x'"),
        ("string", 5, "expected string, got number 5"),
        ("boolean", "true", "expected boolean, got string 'true'"),
        ("int", 2**31, "out of range for int"),
        (["null", "string"], 3, "expected one of [null, string], got number 3"),
    ],
)
def test_avro_default_of_the_wrong_json_type(type_, default, expected):
    schema = admission()
    field(schema, "age").update({"type": type_, "default": default})
    [problem] = check_schema_text(text(schema), "AVRO")
    assert problem.path == "fields[1].default"
    assert problem.message.startswith(f"field 'age': default {json.dumps(default)} does not fit its type")
    assert expected in problem.message


def test_avro_union_default_matching_a_later_branch_is_accepted_as_the_registry_does():
    schema = admission()
    field(schema, "note").update({"type": ["null", "string"], "default": "none"})
    assert check_schema_text(text(schema), "AVRO") == []


def test_avro_record_default_must_have_its_fields():
    schema = admission()
    field(schema, "address")["default"] = {"street": "Main St"}
    [problem] = check_schema_text(text(schema), "AVRO")
    assert "$.zip: missing required field (no default)" in problem.message


def test_avro_duplicate_field_names():
    schema = admission()
    schema["fields"].append({"name": "age", "type": "long"})
    assert messages(check_schema_text(text(schema), "AVRO")) == [
        "at fields[7].name: duplicate field name 'age' in record 'Admission' (also fields[1])"
    ]


def test_avro_enum_without_symbols():
    schema = admission()
    del field(schema, "ward")["type"]["symbols"]
    assert messages(check_schema_text(text(schema), "AVRO")) == [
        "at fields[2].type: field 'ward': enum 'Ward' needs \"symbols\", a list of names"
    ]


def test_avro_enum_default_must_be_a_symbol():
    schema = admission()
    field(schema, "ward")["type"]["default"] = "ICUU"
    [problem] = check_schema_text(text(schema), "AVRO")
    assert "is not one of its symbols (did you mean 'ICU'?)" in problem.message


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ({"type": "array"}, 'an array needs "items"'),
        ({"type": "map"}, 'an map needs "values"'),
        (["null", "string", "string"], "the union lists string twice"),
        ("record", "'record' must be written as an object"),
        ({"type": "fixed", "name": "Hash"}, 'a fixed type needs "size"'),
        ({"type": "record", "name": "Address", "fields": []}, "type 'org.hospital.Address' is defined twice"),
        ({"type": "record", "name": "9lives", "fields": []}, "is not a valid name"),
    ],
)
def test_avro_other_structural_mistakes(type_, expected):
    schema = admission()
    field(schema, "note").update({"type": type_})
    field(schema, "note").pop("default")
    assert any(expected in p.message for p in check_schema_text(text(schema), "AVRO")), expected


def test_avro_fastavro_has_the_last_word_in_plain_words():
    schema = admission()
    field(schema, "age")["type"] = {"type": "bytes", "logicalType": "decimal", "precision": 2, "scale": 4}
    [problem] = check_schema_text(text(schema), "AVRO")
    assert problem.message.startswith("Avro rejects this schema: ")
    assert "scale" in problem.message


def test_avro_several_mistakes_are_all_reported():
    schema = admission()
    field(schema, "age")["type"] = "integer"
    field(schema, "patient_id")["default"] = 1
    schema["fields"].append({"name": "note", "type": "string"})
    problems = check_schema_text(text(schema), "AVRO")
    assert [p.path for p in problems] == ["fields[1].type", "fields[7].name", "fields[0].default"]


# ---------------------------------------------------------------------------------------------- JSON Schema


def test_json_schema_bad_type_keyword_is_placed_and_explained():
    schema = json.loads(json.dumps(ADMISSION_JSON_SCHEMA))
    schema["properties"]["age"]["type"] = "integr"
    [problem] = check_schema_text(json.dumps(schema), "JSON")
    assert problem.path == "properties.age.type"
    assert problem.message.startswith("'integr' is not a JSON Schema type (did you mean 'integer'?)")
    assert str(problem).startswith("at properties.age.type: ")


def test_json_schema_reports_every_error():
    schema = json.loads(json.dumps(ADMISSION_JSON_SCHEMA))
    schema["properties"]["age"]["minimum"] = "zero"
    schema["required"] = "patient_id"
    schema["properties"]["tags"]["items"] = {"type": ["string", "strin"]}
    problems = check_schema_text(json.dumps(schema), "JSON")
    assert [p.path for p in problems] == ["properties.age.minimum", "properties.tags.items.type", "required"]
    assert problems[0].message == "'zero' is not of type 'number'"
    assert "did you mean 'string'?" in problems[1].message


@pytest.mark.parametrize(("raw", "kind"), [("[1, 2]", "array"), ('"string"', "string"), ("3", "number")])
def test_json_schema_must_be_an_object_or_boolean(raw, kind):
    assert messages(check_schema_text(raw, "JSON")) == [
        f"A JSON Schema must be an object (or true/false), not {kind}."
    ]
    assert check_schema_text("true", "JSON") == []


def test_json_schema_uses_the_meta_schema_of_its_draft():
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": []}
    assert check_schema_text(json.dumps(draft7), "JSON") == []
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": []}
    assert "should be non-empty" in check_schema_text(json.dumps(draft4), "JSON")[0].message


def test_json_schema_unknown_dollar_schema():
    [problem] = check_schema_text('{"$schema": "https://json-schema.org/draft/2020-13/schema"}', "JSON")
    assert problem.path == "$schema"
    assert "did you mean 'https://json-schema.org/draft/2020-12/schema'?" in problem.message


def test_json_schema_invalid_json_gives_the_line():
    [problem] = check_schema_text('{\n  "type": "object"\n  "properties": {}\n}', "JSON")
    assert (problem.line, problem.column) == (3, 3)


# ---------------------------------------------------------------------------------------------- Protobuf


def proto(old: str, new: str) -> str:
    assert old in ADMISSION_PROTO
    return ADMISSION_PROTO.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("int32 age = 2;", "int32 age = 2", "line 7, column 16: missing ';' after '2'"),
        ("int32 age = 2;", "int32 age = 1;",
         "line 7, column 9: field number 1 is used twice in message Admission ('patient_id' and 'age')"),
        ("int32 age = 2;", "int32 patient_id = 2;",
         "line 7, column 9: field name 'patient_id' is used twice in message Admission"),
        ("int32 age = 2;", "int32 age = 0;", "line 7, column 9: field 'age': field numbers go from 1 to 536,870,911"),
        ("int32 age = 2;", "int32 age = 19500;",
         "line 7, column 9: field 'age': numbers 19000-19999 are reserved for the Protocol Buffers implementation"),
        ('syntax = "proto3";', "", 'line 1, column 1: missing syntax line: start the file with syntax = "proto3";'),
        ("repeated string tags", "repaeted string tags", "line 10, column 3: unknown field label 'repaeted' "
                                                         "(did you mean 'repeated'?)"),
        ("int32 age", "int age", "line 7, column 7: field 'age' in message Admission: unknown type 'int' "
                                 "(did you mean 'int32'?)"),
        ("Address address = 4;", "Adress address = 4;", "unknown type 'Adress' (did you mean 'Address'?)"),
        ("  CARDIOLOGY = 2;\n}\n", "  CARDIOLOGY = 2;\n", "unexpected end of file: is a closing '}' missing?"),
        ("WARD_UNSPECIFIED = 0;", "WARD_UNSPECIFIED = 1;", "in proto3 the first value must be 0"),
        ("CARDIOLOGY = 2;", "CARDIOLOGY = 1;", "enum Ward: number 1 is used twice"),
        ("map<string, int64>", "map<double, int64>", "a map key must be an integer type, bool or string"),
        ("int32 age = 2;", "required int32 age = 2;", "proto3 has no required fields"),
        ("string street = 1;", "string street = 1; reserved 2;", "uses a number or name that message "
                                                                  "Admission.Address reserves"),
        ("int32 age = 2;", "int32 age = 2; @", "line 7, column 18: unexpected character '@'"),
    ],
)
def test_protobuf_mistakes_are_placed_by_line(old, new, expected):
    problems = messages(check_schema_text(proto(old, new), "PROTOBUF"))
    assert any(expected in p for p in problems), problems


def test_protobuf_proto2_allows_required_and_imports_hide_unknown_types():
    schema = """syntax = "proto2";
import "google/protobuf/timestamp.proto";
message Visit {
  required string id = 1;
  optional google.protobuf.Timestamp at = 2;
  optional Ward ward = 3;
  enum Ward { ICU = 1; }
}
"""
    assert check_schema_text(schema, "PROTOBUF") == []


# ---------------------------------------------------------------------------------------------- canonical form


def test_avro_canonical_form_ignores_spacing_and_key_order():
    compact = json.dumps(ADMISSION, separators=(",", ":"))
    shuffled = dict(reversed(list(admission().items())))
    assert canonical_text(text(ADMISSION), "AVRO") == canonical_text(compact, "AVRO")
    assert fingerprint(text(ADMISSION), "AVRO") == fingerprint(json.dumps(shuffled), "AVRO")


@pytest.mark.parametrize("edit", ["doc", "default", "logicalType"])
def test_avro_fingerprint_changes_when_only_a_default_doc_or_logical_type_changes(edit):
    changed = admission()
    if edit == "doc":
        changed["doc"] = "Another description"
    elif edit == "default":
        field(changed, "age")["default"] = 0
    else:
        field(changed, "admitted_at")["type"]["logicalType"] = "timestamp-micros"
    assert fingerprint(text(changed), "AVRO") != fingerprint(text(ADMISSION), "AVRO")
    assert parsing_canonical_form(text(changed)) == parsing_canonical_form(text(ADMISSION))


def test_avro_parsing_canonical_form_is_available_too():
    assert parsing_canonical_form(text(ADMISSION)).startswith('{"name":"org.hospital.Admission","type":"record"')


def test_fingerprints_differ_for_different_schemas():
    changed = admission()
    field(changed, "age")["type"] = "long"
    assert fingerprint(text(ADMISSION), "AVRO") != fingerprint(text(changed), "AVRO")
    assert len(fingerprint(text(ADMISSION), "AVRO")) == 64


def test_json_canonical_form_sorts_keys_without_spaces():
    assert canonical_text('{"type": "object",\n "title": "A"}', "JSON") == '{"title":"A","type":"object"}'


def test_protobuf_canonical_form_ignores_comments_and_spacing():
    squashed = ADMISSION_PROTO.replace("// A patient admitted to a ward.\n", "").replace("  ", "    ")
    squashed = squashed.replace("int32 age = 2;", "int32   age=2; /* years */")
    assert canonical_text(squashed, "PROTOBUF") == canonical_text(ADMISSION_PROTO, "PROTOBUF")
    assert "//" not in canonical_text(ADMISSION_PROTO, "PROTOBUF")
    assert fingerprint(squashed, "PROTOBUF") != fingerprint(proto("int32 age = 2;", "int64 age = 2;"), "PROTOBUF")


def test_canonical_text_of_an_invalid_schema_raises_with_the_problems():
    with pytest.raises(SchemaTextError) as raised:
        canonical_text('{"type": "strng"}', "AVRO")
    assert isinstance(raised.value, ValueError)
    assert "did you mean 'string'?" in raised.value.problems[0].message
    with pytest.raises(ValueError, match="Unknown schema format"):
        fingerprint("{}", "XML")
