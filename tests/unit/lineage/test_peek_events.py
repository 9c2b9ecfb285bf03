"""Records turned into peek events: key fields masked too, plain-text keys, headers, undecodable sides."""

import json

from onboarding.peek.events import HIDDEN, peek_event
from onboarding.platform.kafka_peek import RawRecord
from onboarding.routing.decode import SchemaCache, encode_avro

KEY = json.dumps({"type": "record", "name": "Key", "fields": [{"name": "patient_id", "type": "string"},
                                                              {"name": "site", "type": "string"}]})
VALUE = json.dumps({"type": "record", "name": "Value", "fields": [{"name": "ssn", "type": "string"}]})
SCHEMAS = SchemaCache({1: KEY, 2: VALUE}.get)


def record(key, value, headers=()):
    return RawRecord(partition=0, offset=7, timestamp_ms=1_700_000_000_000, key=key, value=value, headers=headers)


def test_fields_of_the_key_schema_are_masked_like_those_of_the_value():
    raw = record(encode_avro(1, KEY, {"patient_id": "p-1", "site": "AMS"}), encode_avro(2, VALUE, {"ssn": "123"}),
                 headers=(("trace", b"t-1"), ("empty", None)))

    event = peek_event(raw, SCHEMAS, {"key": {"patient_id": "phi"}, "value": {"ssn": "phi"}})

    assert event.key == {"patient_id": "[PHI]", "site": "AMS"} and event.value == {"ssn": "[PHI]"}
    assert event.headers == [("trace", "t-1"), ("empty", None)] and event.problems == []
    assert event.timestamp.year == 2023


def test_a_plain_text_key_is_shown_as_text_and_a_tombstone_as_none():
    event = peek_event(record(b"order-17", None), SCHEMAS, {"key": {}, "value": {}})

    assert (event.key, event.value, event.problems) == ("order-17", None, [])


def test_an_undecodable_value_is_hidden_when_its_side_has_sensitive_fields():
    tagged = peek_event(record(None, b"ssn=123 not json"), SCHEMAS, {"key": {}, "value": {"ssn": "phi"}})
    untagged = peek_event(record(None, b"ssn=123 not json"), SCHEMAS, {"key": {}, "value": {}})

    assert tagged.value == HIDDEN and "cannot be decoded" in tagged.problems[0]
    assert untagged.value == "ssn=123 not json" and untagged.problems
