"""Publishing Protobuf events through the event gateway as a team does: the .proto registered through the portal's
API, events sent as their proto3 JSON with the team's token over HTTP (one record, a batch), a malformed one refused
with its path, the rest read back by the team's own service account on the SASL listener and decoded with Confluent's
ProtobufDeserializer (classes protoc generated from the same .proto, as a team's consumer has them), and read through
the gateway's REST consume as JSON.
"""

from __future__ import annotations

import importlib
import json
import struct
import sys
from pathlib import Path

import pytest
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import json_format

from tests.acceptance import kafka, steps
from tests.acceptance.gateway_rest import RestGateway, team_gateway
from tests.acceptance.http import wait_for

ORDER_PROTO = """syntax = "proto3";
package gwproto_acceptance;

message Order {
  string id = 1;
  int64 amount = 2;
  Customer customer = 3;
  repeated Line lines = 4;
  Status status = 5;

  message Line {
    string sku = 1;
    int32 qty = 2;
  }
}

message Customer {
  string name = 1;
  string city = 2;
}

enum Status {
  NEW = 0;
  PAID = 1;
}
"""
WRONG_PATH = "value.data.lines[1].qty"


def order(number: int) -> dict:
    """An order in the proto3 JSON mapping, as the reader's MessageToDict writes it back (int64 as text)."""
    return {"id": f"order-{number}", "amount": str(100 * number + 1), "status": "PAID",
            "customer": {"name": f"Customer {number}", "city": "Lyon"},
            "lines": [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": number + 2}]}


def record(data: dict) -> dict:
    return {"key": {"type": "STRING", "data": data["id"]}, "value": {"type": "PROTOBUF", "data": data}}


@pytest.fixture(scope="module")
def order_pb2(tmp_path_factory):
    from grpc_tools import protoc

    root = tmp_path_factory.mktemp("proto")
    (root / "gwproto_acceptance_order.proto").write_text(ORDER_PROTO)
    well_known = str(Path(protoc.__file__).parent / "_proto")
    assert protoc.main(["protoc", f"-I{root}", f"-I{well_known}", f"--python_out={root}",
                        "gwproto_acceptance_order.proto"]) == 0
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("gwproto_acceptance_order_pb2")
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def gateway(stack, as_user, run) -> RestGateway:
    return team_gateway(as_user("alice"), stack.gateway_url, team="payments", name=f"{run} gateway protobuf")


@pytest.fixture(scope="module")
def team_account(as_user, run) -> dict:
    return steps.service_account(as_user("alice"), team="payments", name=f"{run}-gwproto")


def test_protobuf_events_published_over_http_are_read_back_by_the_teams_own_account(as_user, run, gateway,
                                                                                  team_account, order_pb2):
    alice = as_user("alice")
    made = steps.topic(alice, name=f"payments.{run}-gwproto", team="payments", partitions=2)
    topic = made["name"]
    created = alice.created("schemas/", {"topic": made["id"], "side": "value", "format": "PROTOBUF",
                                         "schema": ORDER_PROTO})
    schema_id = alice.wait_status(f"schemas/{created['id']}/")["versions"][-1]["registry_id"]

    single = gateway.produce(topic, record(order(0)))
    assert single.status_code == 200, single.text
    assert single.json()["value"]["type"] == "PROTOBUF"
    malformed = order(90)
    malformed["lines"][1]["qty"] = "two"
    batch = gateway.produce_batch(topic, [{"id": "e1", **record(order(1))}, {"id": "bad", **record(malformed)},
                                          {"id": "e2", **record(order(2))}])
    assert batch.status_code == 207, batch.text
    assert sorted(s["id"] for s in batch.json()["successes"]) == ["e1", "e2"], batch.text
    [failure] = batch.json()["failures"]
    assert failure["id"] == "bad" and failure["error_code"] == 42206, failure
    assert failure["errors"] == {WRONG_PATH: ["expected int32, got string 'two'"]}, failure

    # Everything the topic holds, read to its end by the team's own account: the three events, nothing else.
    records = kafka.read_to_end(kafka.client_config(team_account), topic, group=f"payments.{run}-gwproto")
    deserialize = ProtobufDeserializer(order_pb2.Order, {"use.deprecated.format": False})
    context = SerializationContext(topic, MessageField.VALUE)
    by_key = {}
    for found in records:
        assert found["value"][:6] == b"\x00" + struct.pack(">I", schema_id) + b"\x00", found["value"][:8]
        by_key[found["key"].decode()] = json_format.MessageToDict(deserialize(found["value"], context),
                                                                  preserving_proto_field_name=True)
    assert by_key == {f"order-{n}": order(n) for n in range(3)}

    # The gateway's own REST consume gives the same events back as JSON, page after page by cursor.
    events, cursor = [], None

    def read_page() -> bool:
        nonlocal cursor
        answer = gateway.events(topic, f"{run}-gwproto-rest", cursor=cursor, max_events=10, wait_ms=1000)
        assert answer.status_code == 200, answer.text
        events.extend(answer.json()["events"])
        cursor = answer.json()["cursor"]
        return len(events) >= 3

    wait_for(read_page, timeout=60, message="three events through the gateway's REST consume")
    assert {event["value"]["type"] for event in events} == {"PROTOBUF"}
    assert {event["value"]["schema_id"] for event in events} == {schema_id}
    assert sorted((event["value"]["data"] for event in events), key=lambda data: data["id"]) == \
        [order(n) for n in range(3)], json.dumps(events)[:500]
