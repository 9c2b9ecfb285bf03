"""Table mode on the real stack: the last value per key is kept and a tombstone deletes; a record the converter
cannot read goes to <topic>.dlq with the reason in headers; an index dropped behind the portal's back, and a sink
deleted on the worker, are drift and come back; the worker's principal holds the topic and its dead-letter topic."""

import datetime as dt
import uuid

import pytest
import requests
from confluent_kafka import Consumer

from onboarding.models import EventStoreBinding
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.reconcile.connectors import worker_principal
from onboarding.reconcile.event_store import check_event_store_drift
from onboarding.services.event_store import event_store_bind, event_store_unbind
from tests.fixtures.eventstore import connect_url
from tests.fixtures.waiting import wait_for
from tests.integration.event_store.conftest import applied, avro_encoder, produce

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.django_db(transaction=True)]


def test_table_mode_keeps_the_last_value_per_key_and_a_tombstone_deletes(
        alice, payments_topic, producer_config, registry, store, worker):
    topic = payments_topic(partitions=2)
    encode = avro_encoder(registry, f"{topic.name}-value")
    binding = applied(event_store_bind(actor=alice, topic=topic, mode="table", indexed_fields=["customer"]))

    records = [(f"k{k}".encode(), encode({"seq": 100 * v + k, "customer": f"c{k}", "amount": float(v),
                                           "note": None})) for v in range(3) for k in range(10)]
    records.append((b"k3", None))
    produce(producer_config, topic.name, records)

    events = store[binding.collection_name]
    wait_for(lambda: events.count_documents({}) == 9 and events.count_documents({"value.seq": {"$gte": 200}}) == 9,
             timeout=120, interval=1, message="9 keys at their last value")
    assert events.find_one({"_id": "k3"}) is None
    doc = events.find_one({"_id": "k7"})
    assert doc["value"] == {"seq": 207, "customer": "c7", "amount": 2.0, "note": None}
    assert doc["_key"] == "k7" and doc["_ts"] is not None


def test_an_unreadable_record_goes_to_the_dead_letter_topic_with_the_reason(
        alice, payments_topic, producer_config, registry, store, worker, kafka_admin):
    topic = payments_topic(partitions=1)
    encode = avro_encoder(registry, f"{topic.name}-value")
    binding = applied(event_store_bind(actor=alice, topic=topic, mode="log"))

    unknown_schema = b"\0\0\x0f\x42\x3f" + b"garbage"
    produce(producer_config, topic.name, [(b"a", encode({"seq": 1, "customer": "c", "amount": 1.0, "note": "x"})),
                                          (b"b", unknown_schema),
                                          (b"c", encode({"seq": 3, "customer": "c", "amount": 3.0, "note": None}))])

    events = store[binding.collection_name]
    wait_for(lambda: events.count_documents({}) == 2, timeout=120, interval=1, message="the two good records")
    assert sorted(d["_id"] for d in events.find()) == [f"{topic.name}#0#0", f"{topic.name}#0#2"]
    consumer = Consumer({"bootstrap.servers": kafka_connection_for(topic.cluster).bootstrap_servers,
                         "group.id": f"esbind-{uuid.uuid4().hex[:6]}", "auto.offset.reset": "earliest"})
    try:
        consumer.subscribe([binding.dead_letter_topic])
        message = wait_for(lambda: (m := consumer.poll(1.0)) is not None and m.error() is None and m,
                           timeout=60, interval=0, message="the record in the dead-letter topic")
    finally:
        consumer.close()
    headers = {k: (v or b"").decode() for k, v in message.headers()}
    assert message.value() == unknown_schema
    assert headers["__connect.errors.topic"] == topic.name
    assert headers["__connect.errors.offset"] == "1"
    assert "unreadable" in headers["__connect.errors.exception.message"]

    acls = KafkaAcls(kafka_connection_for(topic.cluster)).describe_acls(worker_principal())
    assert {(a.name, a.operation) for a in acls if a.name in (topic.name, binding.dead_letter_topic)} == {
        (topic.name, "READ"), (topic.name, "DESCRIBE"), (binding.dead_letter_topic, "WRITE"),
        (binding.dead_letter_topic, "DESCRIBE"), (binding.dead_letter_topic, "CREATE")}


def test_a_dropped_index_and_a_deleted_sink_are_drift_and_come_back(alice, payments_topic, store, worker):
    topic = payments_topic(partitions=1)
    binding = applied(event_store_bind(actor=alice, topic=topic, mode="log", retention_days=7,
                                       indexed_fields=["customer", "order.id"]))
    events = store[binding.collection_name]
    # On the top-level copies the sink writes (FerretDB uses an index only for a top-level field).
    indexes = events.index_information()
    assert {"_ts", "_i:value:customer", "_i:value:order:id"} <= set(indexes)
    assert indexes["_i:value:customer"]["key"] == [("_i:value:customer", 1)]

    if not EventStoreBinding.objects.get(pk=binding.pk).observed["ttl"]:
        # A store without TTL indexes (FerretDB): the drift check removes what the retention has passed.
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
        events.insert_many([{"_id": "old", "_ts": old, "value": {}}, {"_id": "new", "_ts": old + dt.timedelta(days=2),
                                                                       "value": {}}])
        assert check_event_store_drift(topic.cluster)["expired"] == 1
        assert [d["_id"] for d in events.find()] == ["new"]

    events.drop_index("_i:value:customer")
    report = check_event_store_drift(topic.cluster)

    assert report["reverted"] == [topic.name]
    drifted = EventStoreBinding.objects.get(pk=binding.pk)
    assert drifted.drift["indexes"] == {"_i:value:customer": {"desired": ["_i:value:customer"], "observed": None}}
    applied(drifted)
    assert "_i:value:customer" in events.index_information()

    requests.delete(f"{connect_url()}/connectors/{binding.connector_name}", timeout=30).raise_for_status()
    report = check_event_store_drift(topic.cluster)
    assert report["reverted"] == [topic.name]
    assert EventStoreBinding.objects.get(pk=binding.pk).drift["connector"] == {"missing": True}
    applied(binding)
    assert worker.config(binding.connector_name)["max.batch.size"] == "500"  # the sink came back as planned

    event_store_unbind(actor=alice, binding=EventStoreBinding.objects.get(pk=binding.pk))
    from onboarding.reconcile.event_store import reconcile_event_store
    wait_for(lambda: reconcile_event_store(topic.cluster_id) and EventStoreBinding.objects.get(
        pk=binding.pk).status == "deleted", timeout=60, interval=1, message="unbound")
    assert worker.config(binding.connector_name) is None
    assert binding.collection_name not in store.list_collection_names()
