"""The gateway in-process (Starlette's TestClient) with its real parts: the grants reader following a per-test
grants topic, the shared idempotent producer, the registry's schema caches, the consume side.

Every Kafka client of the gateway connects as a gateway principal (GATEWAY_KAFKA_*, tests/conftest.py; these
tests have a username of their own) on the SASL listener, and ``write_grants`` changes that principal's ACLs
around each write of grants as the access run does: Kafka refuses the gateway whatever the test's grants do not
allow."""

import contextlib
import hashlib
import os
import secrets
import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from django.conf import settings
from starlette.testclient import TestClient

from onboarding.gateway.app import Gateway, create_app
from onboarding.gateway.grants import KEY_PREFIX, Grant
from onboarding.gateway.principal import event_reader
from onboarding.gateway.server import DeliveryProducer
from onboarding.gateway.table import GrantsReader
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.compacted import COMPACTED, read_compacted, write_compacted
from onboarding.platform.connection import default_kafka_connection, gateway_kafka_connection
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.registry import Registry
from onboarding.reconcile import access_plan, gateway_acls
from onboarding.reconcile.gateway_access import gateway_written_topics
from onboarding.reconcile.gateway_acls import principal_of
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



# The gateways of these tests connect as a principal of their own, which their own access runs and
# write_grants provision; a worker left running by an earlier test keeps the suite's principal (its
# environment's), so its runs never narrow these tests' ACLs to its plan.
IN_PROCESS_USERNAME = f"{os.environ.get('GATEWAY_KAFKA_USERNAME') or 'portal-gateway.tests'}.in-process"


@pytest.fixture(autouse=True)
def _in_process_principal(settings):
    settings.GATEWAY_KAFKA_USERNAME = IN_PROCESS_USERNAME


@pytest.fixture(scope="session")
def gateway_principal():
    """The tests' gateway principal with its SCRAM credential, as an access run sets it; its name."""
    username = IN_PROCESS_USERNAME
    admin = KafkaAcls(default_kafka_connection())
    assert admin.alter_scram(upserts={username: settings.GATEWAY_KAFKA_PASSWORD},
                             mechanism=settings.GATEWAY_KAFKA_SASL_MECHANISM) == {username: None}
    config = {**gateway_kafka_connection().client_config(), "sasl.username": username}  # before the override
    wait_for(lambda: _authenticates(config), timeout=30, interval=0.2,
             message=f"the SCRAM credential of {username} to be usable")
    return username


def _authenticates(config: dict) -> bool:
    try:
        AdminClient(config).list_topics(timeout=5)
    except KafkaException:
        return False
    return True


def write_grants(grants_topic: str, rows: dict[str, bytes | None]) -> dict:
    """Write grant rows (None: a tombstone) as the access run does: the gateway principal first gets the ACLs
    the table needs after the write, and loses the ones it no longer needs once the rows are written. Returns
    write_compacted's outcomes; returns once the broker enforces the new ACLs."""
    admin = KafkaAcls(default_kafka_connection())
    table = read_compacted(admin.connection, grants_topic)
    table.update(rows)
    grants = [Grant.decode(value) for key, value in table.items() if value is not None and key.startswith(KEY_PREFIX)]
    principal = principal_of(settings.GATEWAY_KAFKA_USERNAME)
    planned = gateway_acls.planned(principal, grants, grants_topic=grants_topic,
                                   transactional_id_prefix=settings.GATEWAY_TRANSACTIONAL_ID_PREFIX,
                                   write_topics=gateway_written_topics())
    missing, extra = access_plan.diff({principal: planned}, admin.describe_acls(principal), [principal])
    assert not [error for error in admin.create_acls(missing).values() if error is not None]
    outcomes = write_compacted(admin.connection, grants_topic, rows)
    assert not [error for error in admin.delete_acls(extra).values() if error is not None]
    wait_for(lambda: admin.describe_acls(principal) == planned, timeout=30, interval=0.1,
             message=f"the ACLs of {principal} for the grants of {grants_topic}")
    return outcomes


@pytest.fixture
def team(make_topic, gateway_principal):
    """The payments team's token, granted in a fresh grants topic."""
    grants_topic = make_topic(f"_portal.gateway-grants-test-{uuid.uuid4().hex[:8]}", config=COMPACTED)
    payments = Team("payments")
    assert write_grants(grants_topic, {payments.grant.key: payments.grant.encode()}) == {payments.grant.key: None}
    payments.grants_topic = grants_topic
    return payments


@contextlib.contextmanager
def running_gateway(grants_topic: str):
    """One gateway replica (its own grants reader, producer and consume side) as a TestClient, connected as the
    gateway principal as run_gateway is."""
    config = gateway_kafka_connection().client_config()
    reader = GrantsReader(topic=grants_topic, kafka_config=config)
    reader.start()  # catches up: the team's grant is there before the first request
    producer = DeliveryProducer(kafka_config=config)
    producer.start()
    registry = Registry()
    app = create_app(gateway=Gateway(grants=reader.table, producer=producer, schemas=RegistrySchemas(registry)),
                     events=event_reader(config))
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
