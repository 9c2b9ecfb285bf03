"""The gateway in-process (Starlette's TestClient) with its real parts: the grants reader following a per-test
grants topic, the shared idempotent producer, the registry's schema caches, the consume side."""

import contextlib
import hashlib
import secrets
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings
from starlette.testclient import TestClient

from onboarding.gateway.app import Gateway, create_app
from onboarding.gateway.grants import Grant
from onboarding.gateway.server import DeliveryProducer
from onboarding.gateway.table import GrantsReader
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.compacted import COMPACTED, write_compacted
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.registry import Registry
from tests.fixtures.waiting import wait_for


class Team:
    """A made-up team token whose grant is a row of the test's grants topic."""

    def __init__(self, name: str, *, consume_topics: tuple[str, ...] = ()):
        self.key_id = uuid.uuid4().hex[:12]
        secret = secrets.token_urlsafe(24)
        self.bearer = f"pep_{self.key_id}_{secret}"
        self.grant = Grant(key_id=self.key_id, secret_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                           team=name, principal=f"pep_{self.key_id}", scope="write",
                           produce_prefixes=(f"{name}.",), consume_prefixes=(f"{name}.",),
                           consume_topics=consume_topics, group_prefix=f"{name}.")

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.bearer}"}

    @property
    def metadata(self) -> tuple:
        """The same token as gRPC call metadata."""
        return (("authorization", f"Bearer {self.bearer}"),)



@pytest.fixture
def team(make_topic):
    """The payments team's token, granted in a fresh grants topic."""
    grants_topic = make_topic(f"_portal.gateway-grants-test-{uuid.uuid4().hex[:8]}", config=COMPACTED)
    payments = Team("payments")
    assert write_compacted(default_kafka_connection(), grants_topic, {payments.grant.key: payments.grant.encode()}) \
        == {payments.grant.key: None}
    payments.grants_topic = grants_topic
    return payments


@contextlib.contextmanager
def running_gateway(grants_topic: str):
    """One gateway replica (its own grants reader, producer and consume side) as a TestClient."""
    config = default_kafka_connection().client_config()
    reader = GrantsReader(topic=grants_topic, kafka_config=config)
    reader.start()  # catches up: the team's grant is there before the first request
    producer = DeliveryProducer(kafka_config=config)
    producer.start()
    registry = Registry()
    app = create_app(gateway=Gateway(grants=reader.table, producer=producer, schemas=RegistrySchemas(registry)))
    try:
        with TestClient(app) as client:
            client.cluster_id = producer.cluster_id
            yield client
    finally:
        producer.close(timeout=10)
        reader.stop()
        registry.close()


@pytest.fixture
def gateway(team):
    with running_gateway(team.grants_topic) as client:
        yield client


def read_back(topic: str, partition: int, offset: int, count: int = 1) -> list:
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": uuid.uuid4().hex,
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, partition, offset)])
    found = []
    try:
        wait_for(lambda: found.extend(m for m in consumer.consume(count, timeout=1) if m.error() is None)
                 or len(found) >= count, timeout=30, message=f"{count} records from {topic}[{partition}]@{offset}")
    finally:
        consumer.close()
    return found[:count]
