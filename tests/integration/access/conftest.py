"""Access helpers on the real broker: SASL clients acting as a service account, and cleanup of SCRAM
users, ACLs and topics a test created."""

import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
)
from django.conf import settings

from onboarding.models import ServiceAccount
from onboarding.reconcile.access import reconcile_access
from tests.fixtures.waiting import wait_for


def sasl_config(bootstrap, username, password):
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": username, "sasl.password": password, "socket.connection.setup.timeout.ms": 5000}


def can_produce(bootstrap, username, password, topic) -> bool | str:
    """True if one record is acknowledged, else the error's name."""
    producer = Producer({**sasl_config(bootstrap, username, password), "message.timeout.ms": 5000,
                         "retries": 0})
    outcome = []
    producer.produce(topic, b"x", on_delivery=lambda err, _m: outcome.append(err))
    producer.flush(8)
    if not outcome:
        return "no delivery report"
    return True if outcome[0] is None else outcome[0].name()


def can_read(bootstrap, username, password, topic, group) -> bool | str:
    """True once a consumer fetches from ``topic`` without an authorization error (EOF counts)."""
    consumer = Consumer({**sasl_config(bootstrap, username, password), "group.id": group,
                         "auto.offset.reset": "earliest", "enable.partition.eof": True})
    try:
        consumer.subscribe([topic])
        for _ in range(20):
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is None or error.code() == KafkaError._PARTITION_EOF:
                return True
            return error.name()
        return "nothing"
    finally:
        consumer.close()


def authenticates(bootstrap, username, password) -> bool:
    """A metadata request on the SCRAM listener succeeds (authentication only, no ACL needed)."""
    from confluent_kafka.admin import AdminClient

    client = AdminClient(sasl_config(bootstrap, username, password))
    try:
        client.list_topics(timeout=4)
        return True
    except Exception:  # noqa: BLE001 - any failure means "cannot log in"
        return False


def apply(cluster, row=None, timeout=30):
    """Run the access reconciler here until ``row`` settles (a left-over worker may take the run)."""
    def settled():
        reconcile_access(cluster.pk)
        if row is None:
            return True
        row.refresh_from_db()
        return row if row.status in ("ready", "failed", "deleted") else None
    return wait_for(settled, timeout=timeout, interval=0.5, message=f"{row} to settle")


@pytest.fixture
def broker_topics(kafka_admin):
    made = []

    def make(prefix: str) -> str:
        """A unique `<prefix>.acc-<hex8>` topic on the broker; its `.dlq` is removed too."""
        name = f"{prefix}.acc-{uuid.uuid4().hex[:8]}"
        kafka_admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(30)
        made.append(name)
        wait_for(lambda: name in kafka_admin.list_topics(timeout=10).topics, timeout=10, message=name)
        return name

    yield make
    existing = set(kafka_admin.list_topics(timeout=10).topics)
    extra = [t for t in made + [f"{t}.dlq" for t in made] if t in existing]
    if extra:
        for future in kafka_admin.delete_topics(extra, operation_timeout=30).values():
            future.result(30)


@pytest.fixture
def account_cleanup(kafka_admin):
    """Remove the SCRAM users and ACLs of every service account the test database holds."""
    yield
    usernames = list(ServiceAccount.objects.values_list("username", flat=True))
    for username in usernames:
        query = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, f"User:{username}", None,
                                 AclOperation.ANY, AclPermissionType.ANY)
        kafka_admin.delete_acls([query])[query].result(30)
    if usernames:
        deletions = [UserScramCredentialDeletion(u, ScramMechanism.SCRAM_SHA_512) for u in usernames]
        for future in kafka_admin.alter_user_scram_credentials(deletions).values():
            try:
                future.result(30)
            except Exception:  # noqa: BLE001, S110 - already gone
                pass


@pytest.fixture
def rules_topic():
    return getattr(settings, "ROUTER_RULES_TOPIC", "_portal.routing-rules")
