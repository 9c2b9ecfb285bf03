"""Masking on consume: the grants table's topic rows, who reads in clear, and the masks EventReader applies to
each decoded key and value (plain JSON here; the registry's formats are in the integration tests)."""

import hashlib
import json

import pytest

from onboarding.gateway.consume import EventReader
from onboarding.gateway.grants import NO_MASKS, Grant, GrantsTable, TopicMasks

SECRET = "s3cr3t-value"
LABS = TopicMasks(topic="clinical.labs", value={"patient.ssn": "phi", "visits[].code": "pii"})


def grant(**fields) -> Grant:
    values = {"key_id": "abc123", "secret_sha256": hashlib.sha256(SECRET.encode()).hexdigest(), "team": "clinical",
              "principal": "pep_abc123", "scope": "read", "consume_prefixes": ("clinical.",),
              "group_prefix": "clinical."}
    return Grant(**{**values, **fields})


@pytest.fixture
def table():
    table = GrantsTable()
    table.apply(grant().key, grant().encode())
    table.apply(LABS.row_key, LABS.encode())
    return table


class Record:
    """A consumed record as confluent-kafka hands it over (the accessors EventReader reads)."""

    def __init__(self, key: bytes | None, value: bytes | None):
        self._key, self._value = key, value

    def key(self):
        return self._key

    def value(self):
        return self._value

    def partition(self):
        return 0

    def offset(self):
        return 7

    def timestamp(self):
        return (1, 1_700_000_000_000)

    def headers(self):
        return [("trace", b"t-1")]


@pytest.fixture
def reader():
    reader = EventReader(kafka_config={}, schemas=None, key=b"k" * 32)
    yield reader
    reader.executor.shutdown()


EVENT = {"patient": {"ssn": "123-45-6789", "name": "Ann"}, "visits": [{"code": "A1"}, {"code": "B2"}]}


def test_a_topic_row_is_kept_apart_from_the_grants(table):
    assert len(table) == 1 and table.masks("clinical.labs") == LABS
    assert table.masks("clinical.other") == NO_MASKS and not NO_MASKS


def test_a_bearer_reads_a_tagged_topic_masked_unless_its_grant_names_it_in_clear(table):
    masking = table.masking(grant(), "clinical.labs")
    assert masking.current() == LABS

    table.apply(grant().key, grant(clear_topics=("clinical.labs",)).encode())  # the right follows the table

    assert masking.current() == NO_MASKS
    assert table.masking(grant(), "clinical.other").current() == NO_MASKS


def test_a_tombstone_of_the_topic_row_unmasks_and_a_revoked_grant_reads_nothing_in_clear(table):
    table.apply(grant().key, grant(clear_topics=("clinical.labs",)).encode())
    masking = table.masking(grant(), "clinical.labs")

    table.apply(grant().key, None)
    assert masking.current() == LABS

    table.apply(LABS.row_key, None)
    assert masking.current() == NO_MASKS


@pytest.mark.parametrize("row", [b"{not json", b'{"topic": "clinical.labs", "masks": {"value": ["ssn"]}}',
                                 b'{"topic": "clinical.labs"}'])
def test_an_unreadable_topic_row_hides_the_whole_event_rather_than_showing_it(table, reader, row):
    table.apply(LABS.row_key, row)
    masks = table.masking(grant(), "clinical.labs").current()

    event = reader.event(Record(b"k-1", json.dumps(EVENT).encode()), masks)

    assert masks.hide_all
    assert event["key"]["type"] == event["value"]["type"] == "MASKED"
    assert "123-45-6789" not in json.dumps(event)


def test_the_reader_replaces_tagged_fields_by_their_classification(reader):
    event = reader.event(Record(b"k-1", json.dumps(EVENT).encode()), LABS)

    assert event["value"] == {"type": "JSON", "data": {"patient": {"ssn": "[PHI]", "name": "Ann"},
                                                       "visits": [{"code": "[PII]"}, {"code": "[PII]"}]}}
    assert event["key"] == {"type": "STRING", "data": "k-1"}  # an untagged key stays text
    assert event["headers"] == [{"name": "trace", "value": "dC0x"}]


def test_without_masks_the_event_is_shown_as_decoded(reader):
    event = reader.event(Record(b"k-1", json.dumps(EVENT).encode()), NO_MASKS)

    assert event["value"] == {"type": "JSON", "data": EVENT}


def test_a_tagged_key_is_decoded_and_masked_like_a_value(reader):
    masks = TopicMasks(topic="clinical.labs", key={"patient_id": "pii"})

    event = reader.event(Record(json.dumps({"patient_id": "p-9", "site": 3}).encode(), None), masks)

    assert event["key"] == {"type": "JSON", "data": {"patient_id": "[PII]", "site": 3}}
    assert event["value"] is None  # a tombstone stays one


def test_a_tagged_side_that_cannot_be_decoded_is_not_shown(reader):
    masks = TopicMasks(topic="clinical.labs", key={"patient_id": "pii"}, value={"ssn": "phi"})

    event = reader.event(Record(b"p-9 plain text", b"ssn=123-45-6789"), masks)

    assert event["key"]["type"] == event["value"]["type"] == "MASKED"
    assert "123-45-6789" not in json.dumps(event) and "p-9" not in json.dumps(event)


def test_an_untagged_side_that_cannot_be_decoded_is_still_shown_as_bytes(reader):
    event = reader.event(Record(b"k", b"\xff\xfe"), TopicMasks(topic="t", key={"id": "pii"}))

    assert event["value"]["type"] == "BINARY" and event["value"]["data"] == "//4="
