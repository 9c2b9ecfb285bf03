"""Canonical events in the wire format with the canonical schema: Avro and JSON Schema written and read back,
a value that does not fit refused with its path, an id the registry does not know yet asked again later."""

import json

import pytest

from onboarding.mapper.encode import CanonicalEncoder, EncodeError
from onboarding.routing.decode import SchemaCache, decode_value

PATIENT = {"type": "record", "name": "Patient", "fields": [
    {"name": "id", "type": "string"}, {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}},
    {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
        {"name": "city", "type": "string"}]}},
    {"name": "weight_kg", "type": ["null", "double"], "default": None}]}
PATIENT_JSON = {"type": "object", "properties": {"id": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["id"]}


def _cache(known: dict) -> SchemaCache:
    return SchemaCache(lambda schema_id: known.get(schema_id), unknown_ttl=0)


def test_avro_and_json_schema_events_are_written_in_the_wire_format_and_read_back():
    known = {3: json.dumps(PATIENT), 4: {"schema": json.dumps(PATIENT_JSON), "schemaType": "JSON"}}
    cache = _cache(known)
    encoder = CanonicalEncoder(cache)
    avro = encoder.encode(3, {"id": "p1", "birth_date": 3653, "address": {"city": "Lyon"}})
    assert avro[:5] == b"\x00\x00\x00\x00\x03"
    assert decode_value(avro, cache) == {"id": "p1", "birth_date": "1980-01-02", "address": {"city": "Lyon"},
                                         "weight_kg": None}
    assert encoder.encode(4, {"id": "p1", "age": 44}) == b"\x00\x00\x00\x00\x04" + b'{"id":"p1","age":44}'


@pytest.mark.parametrize(("schema_id", "event", "path"), [
    (3, {"id": "p1", "birth_date": 1, "address": {"city": 7}}, "address.city"),
    (3, {"birth_date": 1, "address": {"city": "Lyon"}}, "id"),
    (4, {"id": "p1", "age": "old"}, "age"),
    (4, {"age": 1}, "id"),
])
def test_an_event_that_does_not_fit_is_refused_with_its_path(schema_id, event, path):
    known = {3: json.dumps(PATIENT), 4: {"schema": json.dumps(PATIENT_JSON), "schemaType": "JSON"}}
    with pytest.raises(EncodeError) as refused:
        CanonicalEncoder(_cache(known)).encode(schema_id, event)
    assert refused.value.path == path and refused.value.message


def test_an_unknown_schema_id_is_refused_and_asked_again_later():
    known: dict = {}
    encoder = CanonicalEncoder(_cache(known))
    with pytest.raises(EncodeError, match="unknown schema id 9"):
        encoder.encode(9, {"id": "p1"})
    known[9] = {"schema": json.dumps(PATIENT_JSON), "schemaType": "JSON"}
    assert encoder.encode(9, {"id": "p1"}).endswith(b'{"id":"p1"}')


def test_a_protobuf_canonical_schema_is_refused_for_every_event():
    encoder = CanonicalEncoder(_cache({5: {"schema": 'syntax = "proto3"; message P { string id = 1; }',
                                           "schemaType": "PROTOBUF"}}))
    with pytest.raises(EncodeError, match="writes Avro and JSON Schema"):
        encoder.encode(5, {"id": "p1"})
