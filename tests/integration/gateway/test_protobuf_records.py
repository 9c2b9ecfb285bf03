"""Protobuf through the gateway on the real registry (Apicurio, ccompat) and broker: published over REST (one record,
a batch) and gRPC, read back with a plain consumer and Confluent's own ProtobufDeserializer, refused with every path
when malformed, and read through the gateway's REST consume as JSON.

The reading side is independent of the gateway's code: the test compiles the same .proto files with protoc into
Python modules (as a team's consumer would) and hands their classes to confluent-kafka's deserializer, which reads
the wire format's message indexes itself.
"""

import importlib
import json
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onboarding.gateway.grpc_server import gateway_pb2, gateway_pb2_grpc
from tests.integration.gateway.conftest import read_back
from tests.integration.gateway.test_grpc_publish import channel, end_offsets  # noqa: F401 - channel is a fixture

MONEY = """syntax = "proto3";
package gwproto_it.common;

message Money {
  int64 cents = 1;
  string currency = 2;
}
"""
ORDER = """syntax = "proto3";
package gwproto_it.shop;

import "gwproto_it/common/money.proto";
import "google/protobuf/timestamp.proto";

message Order {
  string order_id = 1;
  repeated Item items = 2;
  gwproto_it.common.Money total = 3;
  Status status = 4;
  google.protobuf.Timestamp placed_at = 5;
  message Item {
    string sku = 1;
    int32 quantity = 2;
  }
}

enum Status {
  NEW = 0;
  PAID = 1;
}
"""
EVENT = {"order_id": "o-1", "items": [{"sku": "S-1", "quantity": 2}, {"sku": "S-2", "quantity": 1}],
         "total": {"cents": "1250", "currency": "EUR"}, "status": "PAID", "placed_at": "2024-05-01T12:00:00Z"}


@pytest.fixture(scope="module")
def shop_pb2(tmp_path_factory):
    """The schema's files compiled by protoc into Python modules, as a consumer of the topic would."""
    from grpc_tools import protoc

    root = tmp_path_factory.mktemp("protos")
    (root / "gwproto_it" / "common").mkdir(parents=True)
    (root / "gwproto_it" / "common" / "money.proto").write_text(MONEY)
    (root / "gwproto_it" / "shop.proto").write_text(ORDER)
    well_known = str(Path(protoc.__file__).parent / "_proto")
    assert protoc.main(["protoc", f"-I{root}", f"-I{well_known}", f"--python_out={root}",
                        "gwproto_it/common/money.proto", "gwproto_it/shop.proto"]) == 0
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("gwproto_it.shop_pb2")
    finally:
        sys.path.remove(str(root))


@pytest.fixture
def order_topic(make_topic, registry, registry_subjects):
    """A fresh payments topic whose value subject is ORDER, referencing MONEY under its own subject."""
    topic = make_topic(f"payments.gw-proto-{uuid.uuid4().hex[:8]}")
    registry_subjects.extend([f"{topic}-money", f"{topic}-value"])
    registry.register(f"{topic}-money", MONEY, schemaType="PROTOBUF")
    schema_id = registry.register(f"{topic}-value", ORDER, schemaType="PROTOBUF", references=[
        {"name": "gwproto_it/common/money.proto", "subject": f"{topic}-money", "version": 1}])
    return topic, schema_id


def records_url(client, topic: str) -> str:
    return f"/v3/clusters/{client.cluster_id}/topics/{topic}/records"


def confluent_read(message_class, topic: str, raw: bytes):
    """The value as Confluent's ProtobufDeserializer reads it: header, message indexes, message."""
    deserializer = ProtobufDeserializer(message_class, {"use.deprecated.format": False})
    return deserializer(raw, SerializationContext(topic, MessageField.VALUE))


def as_event(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def test_rest_single_and_batch_records_are_what_confluents_deserializer_reads(gateway, team, order_topic, shop_pb2):
    topic, schema_id = order_topic
    single = gateway.post(records_url(gateway, topic), headers=team.headers, json={
        "key": {"type": "STRING", "data": "o-1"}, "value": {"type": "PROTOBUF", "data": EVENT}})
    assert single.status_code == 200, single.text
    assert single.json()["value"]["type"] == "PROTOBUF"
    batch = gateway.post(f"{records_url(gateway, topic)}:batch", headers=team.headers, json={"entries": [
        {"id": "by-version", "value": {"type": "PROTOBUF", "subject": f"{topic}-value", "schema_version": 1,
                                       "data": {**EVENT, "order_id": "o-2"}}},
        {"id": "by-id", "value": {"schema_id": schema_id, "data": {"orderId": "o-3"}}},
        {"id": "nested", "value": {"type": "PROTOBUF", "message": "Order.Item", "data": {"sku": "S-9"}}},
    ]})
    assert batch.status_code == 207 and not batch.json()["failures"], batch.text

    first, second, third, nested = read_back(topic, 0, single.json()["offset"], count=4)

    assert first.key() == b"o-1"
    header = b"\x00" + schema_id.to_bytes(4, "big")
    assert first.value().startswith(header + b"\x00")  # message indexes [0]: the file's first message
    assert as_event(confluent_read(shop_pb2.Order, topic, first.value())) == EVENT
    assert as_event(confluent_read(shop_pb2.Order, topic, second.value())) == {**EVENT, "order_id": "o-2"}
    assert as_event(confluent_read(shop_pb2.Order, topic, third.value())) == {"order_id": "o-3"}
    assert nested.value().startswith(header + b"\x04\x00\x00")  # indexes [0, 0]: a count of 2, then 0 and 0
    assert confluent_read(shop_pb2.Order.Item, topic, nested.value()).sku == "S-9"


def test_grpc_publish_writes_the_same_wire_format(channel, team, order_topic, shop_pb2):  # noqa: F811
    topic, schema_id = order_topic
    stub = gateway_pb2_grpc.EventGatewayStub(channel)
    answer = stub.Publish(gateway_pb2.PublishRequest(topic=topic, records=[gateway_pb2.Record(
        key=gateway_pb2.Data(string="o-1"),
        value=gateway_pb2.Data(schema=gateway_pb2.SchemaData(type=gateway_pb2.SchemaData.PROTOBUF,
                                                             data=json.dumps(EVENT))))]),
        metadata=team.metadata, timeout=30)

    [result] = answer.results
    assert result.WhichOneof("outcome") == "delivery", result.error
    [message] = read_back(topic, result.delivery.partition, result.delivery.offset)
    assert message.value()[:6] == b"\x00" + schema_id.to_bytes(4, "big") + b"\x00"
    assert as_event(confluent_read(shop_pb2.Order, topic, message.value())) == EVENT


MALFORMED = {**EVENT, "order_id": 7, "items": [{"sku": "S-1"}, {"sku": "S-2"}, {"sku": "S-3", "quantty": 1}],
             "total": {"cents": "twelve", "currency": "EUR"}, "coupon": "FREE"}
MALFORMED_PATHS = {"value.data.order_id", "value.data.items[2].quantty", "value.data.total.cents", "value.data.coupon"}


def test_a_malformed_event_is_refused_with_every_path_and_nothing_is_produced(gateway, team, order_topic):
    topic, _ = order_topic
    refused = gateway.post(records_url(gateway, topic), headers=team.headers,
                           json={"value": {"type": "PROTOBUF", "data": MALFORMED}})

    assert (refused.status_code, refused.json()["error_code"]) == (422, 42206)
    errors = refused.json()["errors"]
    assert set(errors) == MALFORMED_PATHS, errors
    assert errors["value.data.items[2].quantty"] == [
        "unknown field: message gwproto_it.shop.Order.Item has no field 'quantty' (did you mean 'quantity'?)"]
    assert errors["value.data.order_id"] == ["expected string, got number 7"]
    assert errors["value.data.total.cents"] == ["expected int64, got string 'twelve'"]
    assert end_offsets(topic) == [0]


def test_grpc_refuses_a_malformed_event_with_its_field_violations(channel, team, order_topic):  # noqa: F811
    topic, _ = order_topic
    stub = gateway_pb2_grpc.EventGatewayStub(channel)
    with pytest.raises(grpc.RpcError) as refused:
        stub.Publish(gateway_pb2.PublishRequest(topic=topic, records=[
            gateway_pb2.Record(value=gateway_pb2.Data(schema=gateway_pb2.SchemaData(
                type=gateway_pb2.SchemaData.PROTOBUF, data=json.dumps(EVENT)))),
            gateway_pb2.Record(value=gateway_pb2.Data(schema=gateway_pb2.SchemaData(
                type=gateway_pb2.SchemaData.PROTOBUF, data=json.dumps(MALFORMED))))]),
            metadata=team.metadata, timeout=30)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [detail] = rpc_status.from_call(refused.value).details
    violations = error_details_pb2.BadRequest()
    assert detail.Unpack(violations)
    assert {violation.field for violation in violations.field_violations} == {
        f"records[1].{path}" for path in MALFORMED_PATHS}
    assert end_offsets(topic) == [0]  # the valid first record was not produced either


def test_rest_consume_returns_the_decoded_json(gateway, team, order_topic):
    topic, schema_id = order_topic
    produced = gateway.post(records_url(gateway, topic), headers=team.headers,
                            json={"value": {"type": "PROTOBUF", "data": {"order_id": "o-1", "total": {"cents": 5}}}})
    assert produced.status_code == 200, produced.text

    answer = gateway.get(f"/v3/clusters/{gateway.cluster_id}/topics/{topic}/events", headers=team.headers,
                         params={"group": "proto", "max": 1, "wait_ms": 2000})

    assert answer.status_code == 200, answer.text
    [event] = answer.json()["events"]
    # The proto3 JSON mapping with the .proto names and every field: 64-bit integers as text, the enum's zero value.
    assert event["value"] == {"type": "PROTOBUF", "schema_id": schema_id, "data": {
        "order_id": "o-1", "items": [], "total": {"cents": "5", "currency": ""}, "status": "NEW"}}
