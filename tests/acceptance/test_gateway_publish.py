"""Publishing schema'd events through the event gateway as a team does: the schema registered through the
portal's API, events sent with the team's token over REST (one record, a chunked stream, a batch), and read back
by the team's own service account with a native Kafka client on the SASL listener, decoded with the registry as
any consumer of the topic decodes them. A Confluent REST Proxy v3 client's documented request works unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import struct

import pytest
import requests
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.acceptance import kafka, steps
from tests.acceptance.gateway_rest import RestGateway, concatenated_json, team_gateway
from tests.fixtures.registry_readers import avro_deserializer, json_deserializer, registry_client

ORDER_AVRO = {
    "type": "record", "name": "Order", "namespace": "acceptance.gateway",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "amount", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
            {"name": "name", "type": "string"},
            {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
                {"name": "city", "type": "string"},
                {"name": "zip", "type": "string"}]}}]}},
        {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
            {"name": "sku", "type": "string"},
            {"name": "qty", "type": "int"}]}}},
    ],
}
_ADDRESS = {"type": "object", "additionalProperties": False, "required": ["city", "zip"],
            "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}
_LINE = {"type": "object", "additionalProperties": False, "required": ["sku", "qty"],
         "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}
ORDER_JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#", "title": "Order", "type": "object",
    "additionalProperties": False, "required": ["id", "amount", "customer", "lines"],
    "properties": {
        "id": {"type": "string"},
        "amount": {"type": "integer"},
        "note": {"type": ["string", "null"]},
        "customer": {"type": "object", "additionalProperties": False, "required": ["name", "address"],
                     "properties": {"name": {"type": "string"}, "address": _ADDRESS}},
        "lines": {"type": "array", "items": _LINE},
    },
}
SCHEMAS = {"AVRO": ("AVRO", ORDER_AVRO), "JSONSCHEMA": ("JSON", ORDER_JSON_SCHEMA)}
# The wrong type sits four levels down: the second line's quantity is text.
WRONG_PATH = "value.data.lines[1].qty"


def order(number: int) -> dict:
    """The order as the reader gets it back (Avro's union branch unwrapped)."""
    return {"id": f"order-{number}", "amount": 100 * number + 1, "note": "gift" if number % 2 else None,
            "customer": {"name": f"Customer {number}", "address": {"city": "Lyon", "zip": f"690{number:02d}"}},
            "lines": [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": number + 2}]}


def written(kind: str, number: int) -> dict:
    """The order as the writer sends it: Avro's JSON encoding names a union's branch."""
    data = order(number)
    if kind == "AVRO" and data["note"] is not None:
        data["note"] = {"string": data["note"]}
    return data


def malformed(kind: str, number: int) -> dict:
    data = written(kind, number)
    data["lines"][1]["qty"] = "two"
    return data


def record(kind: str, data: dict) -> dict:
    return {"key": {"type": "STRING", "data": data["id"]}, "value": {"type": kind, "data": data}}


@pytest.fixture(scope="module")
def gateway(stack, as_user, run) -> RestGateway:
    return team_gateway(as_user("alice"), stack.gateway_url, team="payments", name=f"{run} gateway publish")


@pytest.fixture(scope="module")
def team_account(as_user, run) -> dict:
    """The team's own service account: what reads the topic back, on the SASL listener."""
    return steps.service_account(as_user("alice"), team="payments", name=f"{run}-gwpublish")


@pytest.mark.parametrize("kind", ["AVRO", "JSONSCHEMA"])
def test_schema_events_published_one_streamed_and_batched_are_read_back_in_the_wire_format(
        kind, as_user, run, gateway, team_account, registry_url):
    alice, registry = as_user("alice"), registry_client(registry_url)
    made = steps.topic(alice, name=f"payments.{run}-gwpub-{kind.lower()}", team="payments", partitions=2)
    topic = made["name"]
    portal_format, schema = SCHEMAS[kind]
    created = alice.created("schemas/", {"topic": made["id"], "side": "value", "format": portal_format,
                                         "schema": json.dumps(schema)})
    registered = alice.wait_status(f"schemas/{created['id']}/")
    schema_id = registered["versions"][-1]["registry_id"]
    assert schema_id == registry.get_latest_version(f"{topic}-value").schema_id

    single = gateway.produce(topic, record(kind, written(kind, 0)))
    assert single.status_code == 200, single.text
    assert single.json()["value"]["type"] == kind

    # A stream: records cut across chunks, a malformed one in the middle answered on its own line.
    body = b"".join(json.dumps(r).encode() + b"\n" for r in (
        record(kind, written(kind, 1)), record(kind, malformed(kind, 90)), record(kind, written(kind, 2)),
        record(kind, written(kind, 3))))
    answer, reports = gateway.produce_stream(topic, (body[i:i + 97] for i in range(0, len(body), 97)))
    assert answer.status_code == 200, answer.text
    assert [r["error_code"] for r in reports] == [200, 42206, 200, 200], reports
    assert WRONG_PATH in reports[1]["errors"], reports[1]

    batch = gateway.produce_batch(topic, [{"id": f"e{n}", **record(kind, written(kind, n))} for n in (4, 5)]
                                  + [{"id": "bad", **record(kind, malformed(kind, 91))},
                                     {"id": "e6", **record(kind, written(kind, 6))}])
    assert batch.status_code == 207, batch.text
    assert sorted(s["id"] for s in batch.json()["successes"]) == ["e4", "e5", "e6"], batch.text
    [failure] = batch.json()["failures"]
    assert failure["id"] == "bad" and failure["error_code"] == 42206 and WRONG_PATH in failure["errors"], failure

    refused = gateway.produce(topic, record(kind, malformed(kind, 92)))
    assert refused.status_code == 422 and refused.json()["error_code"] == 42206, refused.text
    assert WRONG_PATH in refused.json()["errors"], refused.text

    # Everything the topic holds, read to its end by the team's own account: the seven events, nothing else.
    records = kafka.read_to_end(kafka.client_config(team_account), topic, group=f"payments.{run}-gwpub")
    deserialize = (avro_deserializer(registry) if kind == "AVRO"
                   else json_deserializer(registry))
    context = SerializationContext(topic, MessageField.VALUE)
    by_key = {}
    for found in records:
        assert found["value"][0] == 0, f"not the Confluent wire format: {found['value'][:8]!r}"
        assert struct.unpack(">I", found["value"][1:5])[0] == schema_id
        by_key[found["key"].decode()] = deserialize(found["value"], context)
    assert len(records) == 7, [r["key"] for r in records]
    assert by_key == {f"order-{n}": order(n) for n in range(7)}


# Confluent's REST Proxy v3 reference (the produce example `binary_and_json`, and its delivery report), verbatim:
# POST /v3/clusters/{cluster_id}/topics/{topic_name}/records, Content-Type: application/json.
CONFLUENT_EXAMPLE = """{
  "partition_id": 1,
  "headers": [
    {
      "name": "Header-1",
      "value": "SGVhZGVyLTE="
    },
    {
      "name": "Header-2",
      "value": "SGVhZGVyLTI="
    }
  ],
  "key": {
    "type": "BINARY",
    "data": "Zm9vYmFy"
  },
  "value": {
    "type": "JSON",
    "data": {
      "foo": "bar"
    }
  },
  "timestamp": "2021-02-05T19:14:42Z"
}"""
# The `string` example of the same reference: a record may be a value alone.
CONFLUENT_STRING_EXAMPLE = """{
  "value": {
    "type": "STRING",
    "data": "My message"
  }
}"""
# The reference's batch example (`string_batch`), for POST .../records:batch.
CONFLUENT_BATCH_EXAMPLE = """{
  "entries": [
    {
      "id": "1",
      "value": {
        "type": "STRING",
        "data": "My first message"
      }
    },
    {
      "id": "2",
      "value": {
        "type": "STRING",
        "data": "My second message"
      }
    }
  ]
}"""
# The reference's `latest_schema` example, "the preferred way of using the API": no type, no schema named; the
# latest key and value schemas of the topic's subjects are used.
CONFLUENT_LATEST_SCHEMA_EXAMPLE = """{
  "key": {
    "data": 1000
  },
  "value": {
    "data": "foobar"
  }
}"""
# The reference's `schema_id_and_schema_version` and `null_and_empty_data` examples; the schema id there (1) is a
# placeholder for the id the registry gave the key schema, filled in below.
CONFLUENT_SCHEMA_ID_AND_VERSION_EXAMPLE = """{
  "key": {
    "subject_name_strategy": "TOPIC_NAME",
    "schema_id": %(key_schema_id)d,
    "data": 1000
  },
  "value": {
    "schema_version": 1,
    "data": {
      "foo": "bar"
    }
  }
}"""
CONFLUENT_NULL_AND_EMPTY_DATA_EXAMPLE = """{
  "key": {
    "schema_id": %(key_schema_id)d
  },
  "value": {
    "schema_version": 1,
    "data": null
  }
}"""
FOO = {"type": "record", "name": "Foo", "namespace": "acceptance.gateway",
       "fields": [{"name": "foo", "type": "string"}]}
DOCUMENTED_REPORT_FIELDS = {"error_code", "cluster_id", "topic_name", "partition_id", "offset", "timestamp", "key",
                            "value"}


def test_a_rest_proxy_v3_client_publishes_as_confluent_documents_it(as_user, run, gateway, team_account):
    topic = steps.topic(as_user("alice"), name=f"payments.{run}-gwconfluent", team="payments", partitions=2)["name"]
    cluster_id = gateway.cluster_id()

    answer = _post_as_documented(gateway, cluster_id, topic, CONFLUENT_EXAMPLE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    report = answer.json()
    assert DOCUMENTED_REPORT_FIELDS <= set(report), report
    assert (report["error_code"], report["cluster_id"], report["topic_name"], report["partition_id"]) == \
        (200, cluster_id, topic, 1)
    assert isinstance(report["offset"], int)
    assert _instant(report["timestamp"]) == dt.datetime(2021, 2, 5, 19, 14, 42, tzinfo=dt.UTC)
    assert report["key"] == {"type": "BINARY", "size": len(b"foobar")}
    assert report["value"]["type"] == "JSON" and report["value"]["size"] > 0

    # Streaming mode as documented: Transfer-Encoding: chunked, records as concatenated JSON, one delivery report
    # per record in the same order. The chunks cut the records anywhere, as a network does.
    stream = (CONFLUENT_EXAMPLE + CONFLUENT_STRING_EXAMPLE + CONFLUENT_EXAMPLE).encode()
    streamed, reports = gateway.produce_stream(topic, (stream[i:i + 64] for i in range(0, len(stream), 64)))
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["content-type"].startswith("application/json"), streamed.headers
    assert [r["error_code"] for r in reports] == [200, 200, 200], streamed.text
    assert all(DOCUMENTED_REPORT_FIELDS <= set(r) and r["topic_name"] == topic for r in reports), reports
    assert [r["partition_id"] for r in reports][::2] == [1, 1]
    assert [r["value"]["type"] for r in reports] == ["JSON", "STRING", "JSON"]
    assert concatenated_json(streamed.text) == reports

    # The batch endpoint with the reference's `string_batch` example: 207, a report per entry by id, in order.
    batch = _post_as_documented(gateway, cluster_id, topic, CONFLUENT_BATCH_EXAMPLE, path="records:batch")
    assert batch.status_code == 207, batch.text
    assert batch.headers["content-type"].startswith("application/json"), batch.headers
    assert [s["id"] for s in batch.json()["successes"]] == ["1", "2"] and batch.json()["failures"] == [], batch.text
    assert all(DOCUMENTED_REPORT_FIELDS - {"error_code", "key"} <= set(s) and s["value"]["type"] == "STRING"
               for s in batch.json()["successes"]), batch.text

    records = kafka.read_to_end(kafka.client_config(team_account), topic, group=f"payments.{run}-gwconfluent")
    assert len(records) == 6, records
    documented = [r for r in records if r["key"] is not None]
    assert len(documented) == 3
    for found in documented:
        assert (found["partition"], found["key"], json.loads(found["value"])) == (1, b"foobar", {"foo": "bar"})
        assert found["headers"][:2] == [("Header-1", b"Header-1"), ("Header-2", b"Header-2")]
        assert found["timestamp_ms"] == 1612552482000
    assert sorted(r["value"] for r in records if r["key"] is None) == [
        b"My first message", b"My message", b"My second message"]
    assert {(r["partition"], r["offset"]) for r in documented} >= {(1, report["offset"])}


def test_confluents_preferred_example_uses_the_latest_schemas_registered_in_the_portal(
        as_user, run, gateway, team_account, registry_url):
    alice, registry = as_user("alice"), registry_client(registry_url)
    made = steps.topic(alice, name=f"payments.{run}-gwlatest", team="payments")
    topic = made["name"]
    ids = {}
    for side, schema in (("key", "long"), ("value", "string")):
        created = alice.created("schemas/", {"topic": made["id"], "side": side, "format": "AVRO",
                                             "schema": json.dumps({"type": schema})})
        ids[side] = alice.wait_status(f"schemas/{created['id']}/")["versions"][-1]["registry_id"]

    answer = _post_as_documented(gateway, gateway.cluster_id(), topic, CONFLUENT_LATEST_SCHEMA_EXAMPLE)

    assert answer.status_code == 200, answer.text
    assert (answer.json()["key"]["type"], answer.json()["value"]["type"]) == ("AVRO", "AVRO"), answer.text
    [found] = kafka.read_to_end(kafka.client_config(team_account), topic, group=f"payments.{run}-gwlatest")
    deserialize = avro_deserializer(registry)
    for side, field, expected in (("key", MessageField.KEY, 1000), ("value", MessageField.VALUE, "foobar")):
        assert struct.unpack(">bI", found[side][:5]) == (0, ids[side]), found[side]
        assert deserialize(found[side], SerializationContext(topic, field)) == expected


@pytest.fixture(scope="module")
def foo_topic(as_user, run) -> dict:
    """A topic with the Avro key (long) and value (Foo) schemas of Confluent's schema'd examples."""
    alice = as_user("alice")
    made = steps.topic(alice, name=f"payments.{run}-gwfoo", team="payments")
    ids = {}
    for side, schema in (("key", {"type": "long"}), ("value", FOO)):
        created = alice.created("schemas/", {"topic": made["id"], "side": side, "format": "AVRO",
                                             "schema": json.dumps(schema)})
        ids[side] = alice.wait_status(f"schemas/{created['id']}/")["versions"][-1]["registry_id"]
    return {"name": made["name"], "ids": ids}


def test_confluents_schema_id_and_schema_version_example_writes_both_schemas(
        run, gateway, team_account, registry_url, foo_topic):
    topic, ids = foo_topic["name"], foo_topic["ids"]
    body = CONFLUENT_SCHEMA_ID_AND_VERSION_EXAMPLE % {"key_schema_id": ids["key"]}

    answer = _post_as_documented(gateway, gateway.cluster_id(), topic, body)

    assert answer.status_code == 200, answer.text
    assert (answer.json()["key"]["type"], answer.json()["value"]["type"]) == ("AVRO", "AVRO"), answer.text
    found = [r for r in kafka.read_to_end(kafka.client_config(team_account), topic, group=f"payments.{run}-gwfoo")
             if r["offset"] == answer.json()["offset"] and r["partition"] == answer.json()["partition_id"]]
    assert len(found) == 1, found
    deserialize = avro_deserializer(registry_client(registry_url))
    for side, field, expected in (("key", MessageField.KEY, 1000), ("value", MessageField.VALUE, {"foo": "bar"})):
        assert struct.unpack(">bI", found[0][side][:5]) == (0, ids[side]), found[0][side]
        assert deserialize(found[0][side], SerializationContext(topic, field)) == expected


def test_confluents_null_and_empty_data_example_produces_a_null_key_and_value(gateway, foo_topic):
    body = CONFLUENT_NULL_AND_EMPTY_DATA_EXAMPLE % {"key_schema_id": foo_topic["ids"]["key"]}

    answer = _post_as_documented(gateway, gateway.cluster_id(), foo_topic["name"], body)

    assert answer.status_code == 200, answer.text
    assert answer.json()["error_code"] == 200


def _post_as_documented(gateway: RestGateway, cluster_id: str, topic: str, body: str, *,
                        path: str = "records") -> requests.Response:
    return requests.post(f"{gateway.url}/v3/clusters/{cluster_id}/topics/{topic}/{path}", data=body.encode(),
                         headers={**gateway.headers, "Content-Type": "application/json"}, timeout=30)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
