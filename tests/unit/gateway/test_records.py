"""Produce records in Confluent REST Proxy v3 shape: checked with the portal's schema checks, then encoded.

Schemas come from an in-memory registry with the Registry adapter's two reads, so these tests need no service.
"""

import base64
import io
import json
import struct

import fastavro
import pytest

from onboarding.gateway.records import (
    BAD_REQUEST,
    INVALID_PAYLOAD,
    SCHEMA_NOT_FOUND,
    ProducibleRecord,
    RecordError,
    encode_record,
    iter_records,
)
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.errors import PlatformError

TOPIC = "clinic.admissions"
ADDRESS = {"type": "record", "name": "Address", "namespace": "clinic.common",
           "fields": [{"name": "zip", "type": "string"}]}
ADMISSION = {
    "type": "record", "name": "Admission", "namespace": "clinic",
    "fields": [
        {"name": "patient", "type": {"type": "record", "name": "Patient", "fields": [
            {"name": "name", "type": "string"},
            {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}},
        ]}},
        {"name": "ward", "type": {"type": "enum", "name": "Ward", "symbols": ["ICU", "MATERNITY"]}},
        {"name": "bed", "type": ["null", "int"], "default": None},
        {"name": "note", "type": ["null", "string", "bytes"], "default": None},
        {"name": "photo", "type": "bytes", "default": ""},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
    ],
}
ADMISSION_V1 = {"type": "record", "name": "Admission", "namespace": "clinic",
                "fields": [{"name": "ward", "type": "string"}]}
VISIT = {"type": "record", "name": "Visit", "namespace": "clinic",
         "fields": [{"name": "home", "type": "clinic.common.Address"}]}
KEY_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"patient_id": {"type": "string", "pattern": "^P[0-9]+$"}},
              "required": ["patient_id"], "additionalProperties": False}
PROTO = 'syntax = "proto3";\npackage clinic;\n\nmessage Admission {\n  string ward = 1;\n}\n'
GOOD_VALUE = {"patient": {"name": "Ada", "birth_date": 19000}, "ward": "ICU", "bed": 7}


class MemoryRegistry:
    """The Registry adapter's get_version and schema_by_id over a dict, counting the calls made."""

    def __init__(self):
        self.subjects: dict[str, list[int]] = {}
        self.schemas: dict[int, dict] = {}
        self.calls = 0

    def register(self, subject, schema, schema_type="AVRO", references=()):
        schema_id = len(self.schemas) + 1
        text = schema if isinstance(schema, str) else json.dumps(schema)
        self.schemas[schema_id] = {"schema": text, "schemaType": schema_type, "references": list(references)}
        self.subjects.setdefault(subject, []).append(schema_id)
        return schema_id

    def get_version(self, subject, version):
        self.calls += 1
        ids = self.subjects.get(subject)
        if not ids:
            raise PlatformError("no subject", retryable=False, code="40401")
        number = len(ids) if version == "latest" else int(version)
        if not 1 <= number <= len(ids):
            raise PlatformError("no version", retryable=False, code="40402")
        schema_id = ids[number - 1]
        return {"subject": subject, "id": schema_id, "version": number, **self.schemas[schema_id]}

    def schema_by_id(self, schema_id):
        self.calls += 1
        if schema_id not in self.schemas:
            raise PlatformError("no schema", retryable=False, code="40403")
        return {"id": schema_id, **self.schemas[schema_id]}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def registry():
    registry = MemoryRegistry()
    registry.register(f"{TOPIC}-value", ADMISSION)
    registry.register(f"{TOPIC}-key", KEY_SCHEMA, "JSON")
    return registry


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def schemas(registry, clock):
    return RegistrySchemas(registry, latest_ttl=30.0, unknown_ttl=5.0, clock=clock)


def encode(body, schemas, topic=TOPIC, **kwargs):
    return encode_record(body, topic=topic, schemas=schemas, **kwargs)


def errors_of(body, schemas, **kwargs) -> RecordError:
    with pytest.raises(RecordError) as caught:
        encode(body, schemas, **kwargs)
    return caught.value


def read_avro(raw: bytes, schema, named=None):
    magic, schema_id = struct.unpack(">BI", raw[:5])
    assert magic == 0
    parsed = fastavro.parse_schema(schema, named_schemas=named)
    return schema_id, fastavro.schemaless_reader(io.BytesIO(raw[5:]), parsed)


# ---------------------------------------------------------------------------------------------- plain types
def test_binary_string_and_json_data_become_their_bytes(schemas):
    record = encode({"key": {"type": "BINARY", "data": base64.b64encode(b"\x00\xffid").decode()},
                     "value": {"type": "STRING", "data": "Zoë"}}, schemas)
    assert (record.key, record.value) == (b"\x00\xffid", "Zoë".encode())
    assert (record.key_type, record.value_type, record.key_size, record.value_size) == ("BINARY", "STRING", 4, 4)
    record = encode({"value": {"type": "JSON", "data": {"b": [1, 2.5, None], "a": "x"}}}, schemas)
    assert record.value == b'{"b":[1,2.5,null],"a":"x"}'


def test_data_without_type_or_schema_uses_the_subjects_latest_schema_as_rest_proxy_v3_does(schemas, registry):
    record = encode({"key": {"data": {"patient_id": "P1"}}, "value": {"data": GOOD_VALUE}}, schemas)

    value_id, key_id = registry.subjects[f"{TOPIC}-value"][-1], registry.subjects[f"{TOPIC}-key"][-1]
    assert (record.value_type, record.value[:5]) == ("AVRO", b"\x00" + value_id.to_bytes(4, "big"))
    assert (record.key_type, record.key) == ("JSONSCHEMA", b"\x00" + key_id.to_bytes(4, "big") + b'{"patient_id":"P1"}')
    # ... and is checked against it: a topic with a schema never gets plain JSON by accident.
    assert "value.data.ward" in errors_of({"value": {"data": {**GOOD_VALUE, "ward": "ER"}}}, schemas).errors


def test_data_without_type_or_schema_is_json_where_the_topic_has_no_schema(schemas, registry):
    record = encode({"value": {"data": {"ward": "ICU"}}}, schemas, topic="clinic.notes")
    assert (record.value, record.value_type, record.key, record.key_type) == (b'{"ward":"ICU"}', "JSON", None, None)
    calls = registry.calls
    encode({"value": {"data": {"ward": "ICU"}}}, schemas, topic="clinic.notes")
    assert registry.calls == calls  # the missing subject is remembered for a while, not asked per record


def test_binary_padding_may_be_left_out_as_java_allows(schemas):
    assert encode({"value": {"type": "BINARY", "data": "aGk"}}, schemas).value == b"hi"


def test_bad_base64_is_refused_at_its_path(schemas):
    error = errors_of({"key": {"type": "BINARY", "data": "not base64!"},
                       "headers": [{"name": "trace", "value": "%%%"}]}, schemas)
    assert error.code == INVALID_PAYLOAD
    assert set(error.errors) == {"key.data", "headers[0].value"}
    assert "base64" in error.errors["key.data"][0]


def test_null_or_left_out_data_is_a_null_key_or_value(schemas):
    record = encode({"key": {"type": "STRING", "data": None}, "value": {"data": None}}, schemas)
    assert (record.key, record.value, record.value_size) == (None, None, 0)
    record = encode({"key": {"type": "STRING"}, "value": {"schema_version": 1}}, schemas)  # REST Proxy v3 allows it
    assert (record.key, record.value, record.value_type) == (None, None, "AVRO")


def test_headers_timestamp_and_partition_are_kept(schemas):
    record = encode({"partition_id": 2, "timestamp": "2024-05-01T12:00:00.123456789+02:00",
                     "headers": [{"name": "source", "value": base64.b64encode(b"ward-app").decode()},
                                 {"name": "empty", "value": None}],
                     "value": {"type": "STRING", "data": "x"}}, schemas)
    assert record.partition == 2
    assert record.timestamp_ms == 1714557600123
    assert record.headers == [("source", b"ward-app"), ("empty", None)]


def test_record_fields_are_each_checked_with_their_path(schemas):
    error = errors_of({"partition_id": -1, "timestamp": "yesterday", "vaule": {}, "headers": [{"value": "eA=="}],
                       "key": {"type": "string", "data": "x"}}, schemas)
    assert set(error.errors) == {"partition_id", "timestamp", "vaule", "headers[0].name", "key.type"}
    assert "did you mean 'value'" in error.errors["vaule"][0]
    assert "did you mean 'STRING'" in error.errors["key.type"][0]


def test_a_body_that_is_not_an_object_is_refused():
    assert errors_of([1, 2], schemas=None).errors == {"$": ["a record is a JSON object, not array of 2 items"]}


def test_plain_types_take_no_schema(schemas):
    error = errors_of({"value": {"type": "JSON", "schema_id": 1, "data": {}}}, schemas)
    assert list(error.errors) == ["value.schema_id"]


def test_json_refuses_nan(schemas):
    assert list(errors_of({"value": {"type": "JSON", "data": float("nan")}}, schemas).errors) == ["value.data"]


# ---------------------------------------------------------------------------------------------- Avro
def test_avro_value_by_topic_name_strategy_and_latest(schemas):
    record = encode({"value": {"type": "AVRO", "data": {**GOOD_VALUE, "note": {"bytes": "\u00ff\u0001"}}}}, schemas)
    schema_id, decoded = read_avro(record.value, ADMISSION)
    assert schema_id == 1
    assert decoded["patient"]["name"] == "Ada" and decoded["bed"] == 7
    assert decoded["note"] == b"\xff\x01"  # the union branch the client named, not the first that fits
    assert decoded["photo"] == b"" and decoded["tags"] == []  # defaults filled in
    assert record.value_type == "AVRO" and record.value_size == len(record.value)


def test_a_bad_avro_payload_is_refused_with_every_problem_by_path(schemas):
    error = errors_of({"value": {"type": "AVRO", "data": {
        "patient": {"name": 5, "birth_date": "1990-01-01"}, "ward": "ER", "extra": 1}}}, schemas)
    assert error.code == INVALID_PAYLOAD
    assert set(error.errors) == {"value.data.patient.name", "value.data.patient.birth_date", "value.data.ward",
                                 "value.data.extra"}
    assert "ICU" in error.errors["value.data.ward"][0]


def test_type_comes_from_the_registered_schema_when_left_out(schemas):
    record = encode({"value": {"schema_version": 1, "data": GOOD_VALUE}}, schemas)
    assert record.value_type == "AVRO"


def test_schema_by_id_and_by_subject_and_version(schemas, registry):
    old = registry.register(f"{TOPIC}-value", ADMISSION_V1)
    latest = encode({"value": {"type": "AVRO", "data": {"ward": "ICU"}}}, schemas)
    assert read_avro(latest.value, ADMISSION_V1) == (old, {"ward": "ICU"})
    by_version = encode({"value": {"type": "AVRO", "schema_version": 1, "data": GOOD_VALUE}}, schemas)
    assert read_avro(by_version.value, ADMISSION)[0] == 1
    by_id = encode({"value": {"schema_id": old, "data": {"ward": "ICU"}}}, schemas)
    assert by_id.value == latest.value


def test_subject_may_be_named(schemas, registry):
    registry.register("shared-admission", ADMISSION_V1)
    record = encode({"value": {"type": "AVRO", "subject": "shared-admission", "data": {"ward": "X"}}}, schemas)
    assert read_avro(record.value, ADMISSION_V1)[1] == {"ward": "X"}


def test_avro_references_are_resolved(schemas, registry):
    registry.register("clinic.common.Address", ADDRESS)
    registry.register("visits-value", VISIT, references=[
        {"name": "clinic.common.Address", "subject": "clinic.common.Address", "version": 1}])
    record = encode_record({"value": {"type": "AVRO", "data": {"home": {"zip": "1011"}}}}, topic="visits",
                           schemas=schemas)
    named = {}
    fastavro.parse_schema(ADDRESS, named_schemas=named)
    assert read_avro(record.value, VISIT, named)[1] == {"home": {"zip": "1011"}}
    error = errors_of({"value": {"type": "AVRO", "subject": "visits-value", "data": {"home": {"zip": 1}}}}, schemas)
    assert list(error.errors) == ["value.data.home.zip"]


def test_validate_false_skips_the_checks_but_still_refuses_what_cannot_be_written(schemas):
    # The portal's check refuses a number for a string; without it fastavro still cannot write one.
    error = errors_of({"value": {"type": "AVRO", "data": {**GOOD_VALUE, "ward": 3}}}, schemas, validate=False)
    assert list(error.errors) == ["value.data"]
    assert "cannot be written with Avro schema 1" in error.errors["value.data"][0]
    record = encode({"value": {"type": "AVRO", "data": GOOD_VALUE}}, schemas, validate=False)
    assert read_avro(record.value, ADMISSION)[1]["ward"] == "ICU"


def test_declared_type_must_match_the_registered_one(schemas):
    error = errors_of({"value": {"type": "JSONSCHEMA", "data": {}}}, schemas)
    assert error.errors == {"value.type": ["JSONSCHEMA does not match schema 1, which is AVRO"]}


# ---------------------------------------------------------------------------------------------- JSON Schema
def test_jsonschema_key_is_the_document_behind_the_wire_header(schemas):
    record = encode({"key": {"type": "JSONSCHEMA", "data": {"patient_id": "P12"}},
                     "value": {"type": "AVRO", "data": GOOD_VALUE}}, schemas)
    assert record.key == b"\x00\x00\x00\x00\x02" + b'{"patient_id":"P12"}'
    assert record.key_type == "JSONSCHEMA"


def test_a_bad_jsonschema_payload_is_refused_with_every_problem_by_path(schemas):
    error = errors_of({"key": {"type": "JSONSCHEMA", "data": {"patient_id": "12", "ward": "ICU"}},
                       "value": {"type": "AVRO", "data": GOOD_VALUE}}, schemas)
    assert set(error.errors) == {"key.data.patient_id", "key.data.ward"}
    error = errors_of({"key": {"type": "JSONSCHEMA", "data": {}}}, schemas)
    assert error.errors == {"key.data.patient_id": ["missing required property"]}


def test_jsonschema_without_validation_encodes_anything_json(schemas):
    record = encode({"key": {"type": "JSONSCHEMA", "data": [1]}}, schemas, validate=False)
    assert record.key[5:] == b"[1]"


# ---------------------------------------------------------------------------------------------- schema lookup
def test_missing_subject_version_or_id_answers_schema_not_found(schemas):
    error = errors_of({"value": {"type": "AVRO", "subject": "nobody-value", "data": {}}}, schemas)
    assert (error.code, list(error.errors)) == (SCHEMA_NOT_FOUND, ["value.subject"])
    assert errors_of({"value": {"type": "AVRO", "schema_version": 9, "data": {}}}, schemas).errors.keys() == \
        {"value.schema_version"}
    assert errors_of({"value": {"schema_id": 99, "data": {}}}, schemas).errors.keys() == {"value.schema_id"}
    error = errors_of({"key": {"type": "AVRO", "data": "x"}}, schemas=RegistrySchemas(MemoryRegistry()))
    assert error.errors == {"key.subject": [f"the schema registry has no subject '{TOPIC}-key'"]}


def test_schema_fields_are_checked(schemas):
    error = errors_of({"value": {"type": "AVRO", "schema_id": 1, "schema_version": 1, "data": {}},
                       "key": {"type": "AVRO", "subject_name_strategy": "RECORD_NAME", "data": {}}}, schemas)
    assert set(error.errors) == {"value.schema_version", "key.subject_name_strategy"}


def test_a_protobuf_subject_is_written_in_the_protobuf_wire_format(schemas, registry):
    schema_id = registry.register("proto-value", PROTO, "PROTOBUF")
    record = encode({"value": {"subject": "proto-value", "data": {"ward": "ICU"}}}, schemas)
    # header, message indexes [0] as the single byte 0, then field 1 (ward) = "ICU"
    assert record.value == b"\x00" + schema_id.to_bytes(4, "big") + b"\x00" + b"\x0a\x03ICU"
    assert record.value_type == "PROTOBUF"
    # tests/unit/gateway/test_protobuf_records.py has the rest: indexes, paths, references


def test_schemas_are_cached_and_latest_expires(schemas, registry, clock):
    body = {"value": {"type": "AVRO", "data": GOOD_VALUE}}
    encode(body, schemas)
    calls = registry.calls
    encode(body, schemas)
    encode({"value": {"schema_id": 1, "data": GOOD_VALUE}}, schemas)
    assert registry.calls == calls
    newer = registry.register(f"{TOPIC}-value", ADMISSION_V1)
    assert read_avro(encode(body, schemas).value, ADMISSION)[0] == 1  # within the TTL
    clock.now += 31
    assert read_avro(encode({"value": {"type": "AVRO", "data": {"ward": "ICU"}}}, schemas).value,
                     ADMISSION_V1)[0] == newer


def test_an_unknown_subject_is_remembered_for_a_while(schemas, registry, clock):
    body = {"value": {"type": "AVRO", "subject": "later-value", "data": {"ward": "ICU"}}}
    errors_of(body, schemas)
    registry.register("later-value", ADMISSION_V1)
    calls = registry.calls
    errors_of(body, schemas)
    assert registry.calls == calls
    clock.now += 6
    assert isinstance(encode(body, schemas), ProducibleRecord)


# ---------------------------------------------------------------------------------------------- stream parser
def parse(*chunks):
    return [r.errors if isinstance(r, RecordError) else r for r in iter_records(chunks)]


def test_stream_of_concatenated_records_split_anywhere():
    stream = b'{"value":{"data":"a"}}{"value":{"data":"b\\"{"}}{"value":{"data":"\xc3\xa9"}}'
    expected = [{"value": {"data": "a"}}, {"value": {"data": 'b"{'}}, {"value": {"data": "é"}}]
    assert parse(stream) == expected
    for size in (1, 2, 3, 7):
        assert parse(*(stream[i:i + size] for i in range(0, len(stream), size))) == expected


def test_stream_of_newline_separated_records():
    assert parse(b'{"a": 1}\n{"b": 2}\r\n', b'\n{"c":\n 3}\n') == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_a_malformed_middle_record_is_reported_and_the_stream_resynchronises():
    results = list(iter_records([b'{"a": 1}\n{"b": 2,}\n', b'{"c": "broken\n{"d": 4}\n']))
    assert results[0] == {"a": 1} and results[3] == {"d": 4}
    assert all(isinstance(r, RecordError) and r.code == BAD_REQUEST for r in results[1:3])
    assert "record 2 is not valid JSON" in results[1].errors["$"][0]
    assert "record 3" in results[2].errors["$"][0]


def test_a_stream_ending_inside_a_record_stops_with_an_error():
    assert parse(b'{"a": 1}{"b": ') == [{"a": 1}, {"$": ["the stream ends inside record 2"]}]


def test_an_oversized_record_stops_the_stream():
    results = list(iter_records([b'{"a": [' + b"1," * 50, b"2]}"], max_record_chars=64))
    assert len(results) == 1 and "longer than 64 characters" in results[0].errors["$"][0]


def test_stream_records_go_straight_into_the_encoder(schemas):
    records = [encode(r, schemas) for r in iter_records([b'{"value":{"type":"STRING","data":"x"}}'])]
    assert records[0].value == b"x"


def test_recursive_avro_types_and_defaults_fastavro_fills_in(schemas, registry):
    node = {"type": "record", "name": "Node", "namespace": "clinic", "fields": [
        {"name": "label", "type": "string"}, {"name": "unit", "type": "string", "default": "mmHg"},
        {"name": "next", "type": ["null", "Node"], "default": None}]}
    registry.register("chain-value", node)
    data = {"label": "a", "next": {"label": "b", "next": {"clinic.Node": {"label": "c", "unit": "bpm"}}}}
    record = encode_record({"value": {"type": "AVRO", "data": data}}, topic="chain", schemas=schemas)
    assert read_avro(record.value, node)[1] == {"label": "a", "unit": "mmHg", "next": {
        "label": "b", "unit": "mmHg", "next": {"label": "c", "unit": "bpm", "next": None}}}
    plain = {"type": "record", "name": "Reading", "fields": [
        {"name": "value", "type": "double"}, {"name": "unit", "type": "string", "default": "mmHg"}]}
    registry.register("readings-value", plain)
    record = encode_record({"value": {"type": "AVRO", "data": {"value": 120}}}, topic="readings", schemas=schemas)
    assert read_avro(record.value, plain)[1] == {"value": 120.0, "unit": "mmHg"}
