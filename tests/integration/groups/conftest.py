"""Consumer-group helpers on the real broker: a payments topic and service account made through the services
and applied by the reconcilers, events with chosen timestamps, and a consumer acting as the account."""

import json
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from django.conf import settings

from onboarding.reconcile.topics import reconcile_cluster
from onboarding.services.service_accounts import service_account_create
from onboarding.services.topics import topic_create
from tests.integration.access.conftest import account_cleanup, apply, sasl_config  # noqa: F401 - fixture
from tests.integration.routing.test_portal_routing import cleanup_topics  # noqa: F401 - fixture


@pytest.fixture
def run():
    return uuid.uuid4().hex[:8]


@pytest.fixture
def orders(cluster, payments, alice, run, cleanup_topics):  # noqa: F811 - fixture imported above
    """payments.orders-<run>, two partitions, created on the broker by the topic reconciler."""
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.orders-{run}", partitions=2,
                         replication_factor=1)
    cleanup_topics.append(topic.name)
    reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == "ready", topic.last_error
    return topic


@pytest.fixture
def app_account(cluster, payments, alice, run, account_cleanup):  # noqa: F811 - fixture imported above
    """The payments team's SCRAM service account, applied; (account, password)."""
    account, password = service_account_create(actor=alice, cluster=cluster, team=payments, name=f"app-{run}")
    assert apply(cluster, account).status == "ready", account.last_error
    return account, password


def produce(topic: str, events: list[dict], *, timestamp_ms: int) -> None:
    """JSON events, all with the given record timestamp, spread over the partitions by key."""
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "acks": "all"})
    for event in events:
        producer.produce(topic, key=str(event["n"]).encode(), value=json.dumps(event).encode(),
                         timestamp=timestamp_ms)
        producer.poll(0)
    assert producer.flush(30) == 0


class AccountConsumer:
    """A consumer in ``group`` as the service account on the SCRAM listener, committing what it reads."""

    def __init__(self, bootstrap, username, password, *, group, topic):
        self.consumer = Consumer({**sasl_config(bootstrap, username, password), "group.id": group,
                                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                  "enable.partition.eof": False})
        self.consumer.subscribe([topic])

    def read(self, expect: int, *, timeout=60.0, settle=2.0) -> list[dict]:
        """What it reads until ``expect`` events came and nothing more for ``settle`` seconds; committed."""
        values, deadline, last_new = [], time.monotonic() + timeout, time.monotonic()
        while time.monotonic() < deadline:
            for message in self.consumer.consume(num_messages=500, timeout=0.5):
                if message.error() is not None:
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise AssertionError(f"cannot read: {message.error().name()}")
                values.append(json.loads(message.value()))
                last_new = time.monotonic()
            if len(values) >= expect and time.monotonic() - last_new >= settle:
                break
        if values:
            self.consumer.commit(asynchronous=False)
        return values

    def poll_once(self) -> None:
        self.consumer.poll(0.5)

    def close(self) -> None:
        self.consumer.close()  # leaves the group: it has no members afterwards


@pytest.fixture
def consumers(kafka_sasl_bootstrap):
    made = []

    def make(account, password, *, group, topic) -> AccountConsumer:
        consumer = AccountConsumer(kafka_sasl_bootstrap, account.username, password, group=group, topic=topic)
        made.append(consumer)
        return consumer

    yield make
    for consumer in made:
        try:
            consumer.close()
        except RuntimeError:
            pass  # closed by the test
