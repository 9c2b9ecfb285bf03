"""Event store bindings on the real stack: broker (SCRAM + ACLs), registry, Kafka Connect worker with the
aggregator module's plugins, FerretDB. Each test gets its own store database (EVENT_STORE_DATABASE), a topic of
payments on the broker, a SCRAM service account of payments to produce with, and afterwards loses the sinks,
topics and database it made."""

import io
import json
import struct
import uuid

import fastavro
import pytest
from confluent_kafka import Producer
from pymongo import MongoClient

from onboarding.models import EventStoreBinding, ResourceStatus
from onboarding.platform.connect import Connect, ConnectConnection
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.event_store import check_event_store_drift, reconcile_event_store
from onboarding.services.service_accounts import service_account_create
from tests.fixtures.eventstore import connect_url, event_store_uri
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import account_cleanup as _account_cleanup
from tests.integration.access.conftest import sasl_config
from tests.integration.subscriptions.helpers import make_topic

ORDER = {"type": "record", "name": "Order", "namespace": "payments", "fields": [
    {"name": "seq", "type": "long"}, {"name": "customer", "type": "string"},
    {"name": "amount", "type": "double"}, {"name": "note", "type": ["null", "string"], "default": None}]}


@pytest.fixture
def store(settings):
    """The test's own store database, dropped afterwards (bindings name it <EVENT_STORE_DATABASE>_local)."""
    settings.EVENT_STORE_URI = settings.EVENT_STORE_CONNECT_URI = event_store_uri()
    settings.EVENT_STORE_DATABASE = f"test_esbind_{uuid.uuid4().hex[:8]}"
    client = MongoClient(event_store_uri(), serverSelectionTimeoutMS=10_000)
    database = client[f"{settings.EVENT_STORE_DATABASE}_local"]
    yield database
    client.drop_database(database.name)
    client.close()


@pytest.fixture
def worker():
    """The worker's client; the sinks of the test's bindings are deleted afterwards."""
    with Connect(ConnectConnection(connect_url()), timeout=30) as connect:
        yield connect
        for binding in EventStoreBinding.objects.select_related("topic"):
            try:
                connect.delete(binding.connector_name)
            except Exception:  # noqa: BLE001, S110 - a worker restarting: the next test's run cleans its own
                pass


@pytest.fixture
def broker_topics(kafka_admin):
    made = []
    yield made
    for name in made:
        for future in kafka_admin.delete_topics([name, f"{name}.dlq"], operation_timeout=30).values():
            try:
                future.result(30)
            except Exception:  # noqa: BLE001, S110 - the dead-letter topic exists only when something failed
                pass


@pytest.fixture
def payments_topic(alice, cluster, payments, kafka_admin, broker_topics):
    def make(partitions=3):
        topic = make_topic(alice, cluster, payments, name=f"payments.es-{uuid.uuid4().hex[:8]}",
                           partitions=partitions)
        broker_topics.append(topic.name)
        topic_reconciler.reconcile_cluster(cluster.pk)
        wait_for(lambda: topic.name in kafka_admin.list_topics(timeout=10).topics, timeout=30, message="the topic")
        topic.refresh_from_db()
        return topic
    return make


# The access tests' clean-up of SCRAM users and ACLs, for the accounts made here.
account_cleanup = _account_cleanup


@pytest.fixture
def producer_config(alice, cluster, payments, kafka_sasl_bootstrap, account_cleanup):
    """A SCRAM service account of payments, applied on the broker: what the team's application produces with."""
    account, password = service_account_create(actor=alice, cluster=cluster, team=payments,
                                               name=f"app-{uuid.uuid4().hex[:6]}")

    def settled():
        reconcile_access(cluster.pk)
        account.refresh_from_db()
        return account.status == ResourceStatus.READY
    wait_for(settled, timeout=60, interval=1, message="the service account on the broker")
    return {**sasl_config(kafka_sasl_bootstrap, account.username, password), "linger.ms": 20}


def avro_encoder(registry, subject: str):
    schema_id = registry.register(subject, ORDER)
    parsed = fastavro.parse_schema(ORDER)

    def encode(record: dict) -> bytes:
        out = io.BytesIO()
        out.write(b"\0" + struct.pack(">I", schema_id))
        fastavro.schemaless_writer(out, parsed, record)
        return out.getvalue()
    return encode


def customer_records(encode, start: int, stop: int, customers: int) -> list[tuple[bytes, bytes]]:
    """Avro events ``seq`` start..stop-1 keyed by their customer (``c<seq % customers>``), without a note."""
    return [(f"c{i % customers}".encode(),
             encode({"seq": i, "customer": f"c{i % customers}", "amount": i / 100, "note": None}))
            for i in range(start, stop)]


def produce(config: dict, topic: str, records) -> list[tuple[int, int]]:
    """Produce (key, value bytes) pairs; the (partition, offset) of each, in order, all acknowledged."""
    producer = Producer({**config, "enable.idempotence": True})
    placed, errors = [], []

    def report(err, message):
        if err is not None:
            errors.append(err)
        else:
            placed.append((message.partition(), message.offset()))
    for key, value in records:
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.5)
        producer.poll(0)
    assert producer.flush(60) == 0 and not errors, errors
    return placed


def applied(binding: EventStoreBinding, *, timeout: float = 180) -> EventStoreBinding:
    """Run the event store reconciler (and the drift check) until the binding is ready with its sink RUNNING."""
    last = [""]

    def reached():
        reconcile_event_store(binding.topic.cluster_id)
        fresh = EventStoreBinding.objects.select_related("topic__cluster", "team").get(pk=binding.pk)
        if fresh.status == ResourceStatus.READY:
            check_event_store_drift(fresh.topic.cluster)
            fresh.refresh_from_db()
        last[0] = fresh.last_error or fresh.runtime_error
        running = fresh.connector_state == "RUNNING" and fresh.task_states and all(
            t["state"] == "RUNNING" for t in fresh.task_states)
        return fresh if fresh.status == ResourceStatus.READY and running else None

    try:
        return wait_for(reached, timeout=timeout, interval=1, message="the binding ready and its sink RUNNING")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last error: {last[0][:2000]}") from None


def as_json(value) -> bytes:
    return json.dumps(value).encode()
