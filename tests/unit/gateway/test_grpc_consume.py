"""gRPC Consume's pure parts: the credit window a stream's follower reads by, and EventReader's decoded event
(the REST shape) as a ConsumedEvent in Publish's Data shape."""

import base64
import json
import threading

import pytest

from onboarding.gateway import grpc_consume
from onboarding.gateway.grpc_consume import MAX_CREDITS, CreditWindow
from onboarding.gateway.grpc_server import gateway_pb2


def window(credits: int = 0) -> CreditWindow:
    return CreditWindow(topic="payments.orders", group="payments.billing", credits=credits)


def test_credits_add_up_and_each_event_read_uses_one_until_it_is_written():
    paced = window(2)
    paced.grant(3)

    assert paced.room(timeout=0) == 5
    assert paced.take() and paced.take()
    assert (paced.credits, paced.held, paced.peak_held) == (3, 2, 2)
    paced.written()
    assert (paced.credits, paced.held, paced.sent, paced.granted) == (3, 1, 1, 5)


def test_more_than_max_credits_granted_and_not_yet_used_is_refused():
    paced = window(MAX_CREDITS - 1)
    paced.take()  # held, not yet written: still counts

    with pytest.raises(ValueError, match=str(MAX_CREDITS)):
        paced.grant(2)
    paced.grant(1)
    assert paced.credits + paced.held == MAX_CREDITS


def test_without_credit_the_follower_waits_and_a_grant_wakes_it():
    paced = window()
    assert paced.room(timeout=0.01) == 0 and paced.starved == 1

    answers = []
    follower = threading.Thread(target=lambda: answers.append(paced.room(timeout=30)))
    follower.start()
    paced.grant(4)
    follower.join(30)

    assert answers == [4]


def test_an_ended_stream_takes_nothing_and_drops_what_it_held():
    paced = window(3)
    paced.take()
    paced.release()

    assert not paced.take()
    assert (paced.held, paced.credits) == (0, 2)


def convert(event: dict):
    return grpc_consume._event(gateway_pb2, event, "cursor-after")


def event(**fields) -> dict:
    return {"partition": 2, "offset": 41, "timestamp": "2026-12-06T11:00:00.123Z", "key": None, "value": None,
            "headers": [], **fields}


def test_a_json_event_with_its_key_headers_timestamp_and_cursor():
    answer = convert(event(key={"type": "STRING", "data": "order-1"}, value={"type": "JSON", "data": {"id": 1}},
                           headers=[{"name": "origin", "value": base64.b64encode(b"web").decode()},
                                    {"name": "empty", "value": None}]))

    assert (answer.partition, answer.offset, answer.cursor) == (2, 41, "cursor-after")
    assert answer.timestamp.ToJsonString() == "2026-12-06T11:00:00.123Z"
    assert answer.key.string == "order-1" and json.loads(answer.value.json) == {"id": 1}
    assert [(h.name, h.value, h.HasField("value")) for h in answer.headers] == [("origin", b"web", True),
                                                                              ("empty", b"", False)]


@pytest.mark.parametrize("kind", ["AVRO", "JSONSCHEMA", "PROTOBUF"])
def test_a_schemad_value_keeps_its_type_and_schema_id(kind):
    answer = convert(event(value={"type": kind, "schema_id": 7, "data": {"amount": 10}}))

    schema = answer.value.schema
    assert gateway_pb2.SchemaData.Type.Name(schema.type) == kind
    assert (schema.schema_id, json.loads(schema.data)) == (7, {"amount": 10})


def test_bytes_it_could_not_decode_say_why_and_a_tombstone_has_no_value():
    raw = base64.b64encode(b"\x01\x02").decode()
    answer = convert(event(key={"type": "BINARY", "data": raw},
                           value={"type": "BINARY", "data": raw, "undecoded": "not JSON"}))
    assert (answer.key.bytes, answer.value.bytes, answer.undecoded) == (b"\x01\x02", b"\x01\x02", "not JSON")

    tombstone = convert(event(timestamp=None))
    assert not tombstone.HasField("value") and not tombstone.HasField("key") and not tombstone.HasField("timestamp")


def test_a_side_the_gateway_may_not_show_is_left_out_with_the_reason():
    answer = convert(event(key={"type": "STRING", "data": "k"},
                           value={"type": "MASKED", "reason": "not shown: it has sensitive fields"}))

    assert not answer.HasField("value") and answer.value_hidden == "not shown: it has sensitive fields"
    assert answer.key.string == "k" and answer.key_hidden == ""
