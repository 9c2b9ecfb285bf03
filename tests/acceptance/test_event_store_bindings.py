"""Keeping a topic in the event store as a team does: alice registers an Avro value schema and keeps her topic in
the event store through the API (log mode, one indexed field), her application produces Avro events with its own
SCRAM account, and the stack's worker process has the managed sink write them as documents whose ids are their
places in the log; bob (clinical) may not touch the binding; unbinding removes the sink and the documents."""

import io
import json
import os
import struct

import fastavro
import pytest
import requests
from confluent_kafka import Producer
from pymongo import MongoClient

from tests.acceptance import kafka, steps
from tests.acceptance.http import wait_for

ORDER = {"type": "record", "name": "Order", "namespace": "payments", "fields": [
    {"name": "seq", "type": "long"}, {"name": "customer", "type": "string"}, {"name": "amount", "type": "double"}]}
COUNT = 200


@pytest.fixture(scope="module")
def store():
    client = MongoClient(os.environ["EVENT_STORE_URI"], serverSelectionTimeoutMS=10_000)
    yield client
    client.close()


def produce_avro(config: dict, topic: str, schema_id: int, events: list[dict]) -> list[tuple[int, int]]:
    parsed = fastavro.parse_schema(ORDER)
    producer = Producer({**config, "acks": "all", "enable.idempotence": True})
    placed, errors = [], []

    def delivered(error, message):
        (errors.append(error) if error is not None else placed.append((message.partition(), message.offset())))
    for event in events:
        out = io.BytesIO()
        out.write(b"\0" + struct.pack(">I", schema_id))
        fastavro.schemaless_writer(out, parsed, event)
        producer.produce(topic, key=event["customer"].encode(), value=out.getvalue(), on_delivery=delivered)
    assert producer.flush(30) == 0 and not errors, errors
    return placed


def test_a_team_keeps_its_avro_topic_in_the_event_store(as_user, run, store):
    alice, bob = as_user("alice"), as_user("bob")
    topic = steps.topic(alice, name=f"payments.{run}-orders-kept", team="payments", partitions=2)
    schema = alice.created("schemas/", {"topic": topic["id"], "side": "value", "format": "AVRO",
                                        "schema": json.dumps(ORDER)})
    registered = alice.wait_status(f"schemas/{schema['id']}/")
    schema_id = registered["versions"][-1]["registry_id"]
    app = steps.service_account(alice, team="payments", name=f"{run}-store-app")

    url = f"topics/{topic['id']}/event-store/"
    refused = bob.put(url, {"mode": "log"})
    assert refused.status_code in (403, 404), refused.text
    bad = alice.put(url, {"mode": "log", "indexed_fields": ["$where"]})
    assert bad.status_code == 400 and "indexed_fields" in bad.json()["errors"], bad.text
    bound = alice.put(url, {"mode": "log", "retention_days": 30, "indexed_fields": ["customer"]})
    assert bound.status_code == 201, bound.text
    binding = alice.wait_status(url, timeout=180)
    assert binding["dead_letter_topic"] == f"{topic['name']}.dlq"

    placed = produce_avro(kafka.client_config(app), topic["name"], schema_id,
                          [{"seq": i, "customer": f"c{i % 7}", "amount": i / 4} for i in range(COUNT)])
    documents = store[binding["database"]][binding["collection"]]
    wait_for(lambda: documents.count_documents({}) == COUNT, timeout=180, message=f"{COUNT} documents stored")
    assert {d["_id"] for d in documents.find({}, {"_id": 1})} == {f"{topic['name']}#{p}#{o}" for p, o in placed}
    one = documents.find_one({"value.seq": 9})
    assert one["value"] == {"seq": 9, "customer": "c2", "amount": 2.25} and one["_key"] == "c2"
    # The sink writes a top-level copy of the indexed field, and the index is on it (FerretDB indexes only those).
    assert one["_i:value:customer"] == "c2"
    assert documents.index_information()["_i:value:customer"]["key"] == [("_i:value:customer", 1)]
    # The backfill of the copies into earlier events ran (on an empty collection) and says so on the binding.
    wait_for(lambda: alice.get(url).json()["backfill"].get("state") == "done", timeout=120,
             message="the backfill done")

    gone = alice.delete(url)
    assert gone.status_code == 202, gone.text
    # Deleted, the binding is no longer the topic's: the API answers 404.
    wait_for(lambda: alice.get(url).status_code == 404, timeout=120, message="the binding deleted")
    wait_for(lambda: binding["collection"] not in store[binding["database"]].list_collection_names(), timeout=120,
             message="the collection dropped")
    answer = requests.get(f"{os.environ['CONNECT_URL']}/connectors/{binding['connector_name']}", timeout=10)
    assert answer.status_code == 404
