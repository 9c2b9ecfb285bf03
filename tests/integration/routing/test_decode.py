"""Decoding message values for filters, with writer schemas from the real Schema Registry."""

import datetime as dt
import json
import struct
import uuid
from decimal import Decimal

import pytest

from onboarding.platform.registry import Registry
from onboarding.routing.decode import DecodeError, SchemaCache, decode_value, encode_avro
from onboarding.routing.filters import compile_filter

ADMISSION = {
    "type": "record", "name": "Admission", "namespace": "routing.decode",
    "fields": [
        {"name": "patient_id", "type": "string"},
        {"name": "ward", "type": "string"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "admitted_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "bed", "type": ["null", "int"], "default": None},
    ],
}
ADMISSION_JSON_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                         "properties": {"ward": {"type": "string"}}}
PROTO = 'syntax = "proto3";\npackage routing.decode;\n\nmessage Admission {\n  string ward = 1;\n}\n'


class CountingRegistry:
    """The real Registry, counting the requests made through it."""

    def __init__(self, registry):
        self.registry = registry
        self.paths = []

    def request(self, method, path, **kwargs):
        self.paths.append(path)
        return self.registry.request(method, path, **kwargs)


@pytest.fixture
def register(registry_http, registry_url):
    """``register(schema_text, schema_type)`` under a fresh ``routing.decode-<hex8>-value`` subject; the id."""
    subjects = []

    def make(schema_text, schema_type="AVRO"):
        subject = f"routing.decode-{uuid.uuid4().hex[:8]}-value"
        subjects.append(subject)
        response = registry_http.post(f"{registry_url}/subjects/{subject}/versions",
                                      data=json.dumps({"schema": schema_text, "schemaType": schema_type}))
        assert response.status_code == 200, response.text
        return response.json()["id"]

    yield make
    for subject in subjects:
        registry_http.delete(f"{registry_url}/subjects/{subject}")
        registry_http.delete(f"{registry_url}/subjects/{subject}?permanent=true")


@pytest.fixture
def registry():
    with Registry() as client:
        yield CountingRegistry(client)


@pytest.fixture
def schemas(registry):
    return SchemaCache(registry)


def test_an_avro_value_round_trips_through_the_registry_as_plain_json_like_values(register, registry, schemas):
    text = json.dumps(ADMISSION)
    schema_id = register(text)
    admitted_at = dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)
    raw = encode_avro(schema_id, text, {"patient_id": "p-1", "ward": "ICU", "tags": ["urgent"],
                                        "amount": Decimal("125.50"), "admitted_at": admitted_at, "bed": None})

    assert raw[0] == 0 and struct.unpack(">I", raw[1:5])[0] == schema_id
    value = decode_value(raw, schemas)

    assert value == {"patient_id": "p-1", "ward": "ICU", "tags": ["urgent"], "amount": 125.5,
                     "admitted_at": "2025-03-01T08:30:00+00:00", "bed": None}
    assert compile_filter("value.ward == 'ICU' && value.amount > `100` && contains(value.tags, 'urgent')").matches(
        value=value)
    # The writer schema is fetched once, by id, through Registry.request; later events use the cache.
    decode_value(raw, schemas)
    assert registry.paths == [f"/schemas/ids/{schema_id}"]


def test_an_unknown_schema_id_is_a_decode_error_and_is_not_asked_again_at_once(registry, schemas):
    raw = b"\x00" + struct.pack(">I", 2**31 - 7) + b"\x02a"
    for _ in range(2):
        with pytest.raises(DecodeError, match=f"^unknown schema id {2**31 - 7}$"):
            decode_value(raw, schemas)
    assert registry.paths == [f"/schemas/ids/{2**31 - 7}"]


def test_an_avro_payload_that_does_not_match_its_schema_is_a_decode_error(register, schemas):
    text = json.dumps(ADMISSION)
    schema_id = register(text)
    header = b"\x00" + struct.pack(">I", schema_id)
    with pytest.raises(DecodeError, match=f"^Avro payload does not match schema {schema_id}: it ends too early"):
        decode_value(header + b"\x06p-1", schemas)
    valid = encode_avro(schema_id, text, {"patient_id": "p", "ward": "w", "tags": [], "amount": Decimal("1.00"),
                                          "admitted_at": 0})
    with pytest.raises(DecodeError, match=f"^Avro payload does not match schema {schema_id}: 3 bytes left over"):
        decode_value(valid + b"xyz", schemas)


def test_a_json_schema_wire_format_value_is_json_after_the_header(register, schemas):
    schema_id = register(json.dumps(ADMISSION_JSON_SCHEMA), "JSON")
    raw = b"\x00" + struct.pack(">I", schema_id) + json.dumps({"ward": "ICU"}).encode()
    assert decode_value(raw, schemas) == {"ward": "ICU"}
    with pytest.raises(DecodeError, match=f"^JSON payload of schema {schema_id} is not valid JSON at line 1"):
        decode_value(raw[:-1], schemas)


def test_a_protobuf_value_is_its_proto3_json_after_the_header_and_message_indexes(register, schemas):
    schema_id = register(PROTO, "PROTOBUF")
    raw = b"\x00" + struct.pack(">I", schema_id) + b"\x00\x0a\x03ICU"  # indexes [0], then ward = "ICU"
    assert decode_value(raw, schemas) == {"ward": "ICU"}
    assert compile_filter("value.ward == 'ICU'").matches(value=decode_value(raw, schemas))
    with pytest.raises(DecodeError, match=f"^Protobuf payload does not match schema {schema_id}: the schema has "
                                          r"no message at index path \[3\]$"):
        decode_value(raw[:5] + b"\x02\x06" + raw[6:], schemas)


def test_plain_json_values_need_no_registry(registry, schemas):
    assert decode_value(b'{"ward": "ICU", "amount": 250}', schemas) == {"ward": "ICU", "amount": 250}
    assert decode_value(b"[1, 2]", schemas) == [1, 2]
    assert decode_value('\ufeff{"bom": true}'.encode(), schemas) == {"bom": True}
    assert decode_value(b'"text"', schemas) == "text"
    assert decode_value(None, schemas) is None
    assert registry.paths == []


@pytest.mark.parametrize(("raw", "message"), [
    (b"\xff\xfe\x00garbage", "not JSON and not in the Schema Registry wire format"),
    (b"hello world", "not JSON and not in the Schema Registry wire format"),
    (b"\x00\x01", "shorter than the 5-byte header"),
    (b"", "the value is empty"),
    (b'{"ward": "ICU",}', "looks like JSON but is not valid at line 1, column 16"),
])
def test_garbage_is_a_decode_error(raw, message, schemas):
    with pytest.raises(DecodeError, match=message):
        decode_value(raw, schemas)


def test_a_fetch_function_can_stand_in_for_the_registry():
    text = json.dumps(ADMISSION)
    cache = SchemaCache(lambda schema_id: text if schema_id == 7 else None)
    raw = encode_avro(7, text, {"patient_id": "p", "ward": "ICU", "tags": [], "amount": Decimal("3"),
                                "admitted_at": 0})
    assert decode_value(raw, cache)["ward"] == "ICU"
    with pytest.raises(DecodeError, match="^unknown schema id 8$"):
        decode_value(b"\x00" + struct.pack(">I", 8) + raw[5:], cache)
