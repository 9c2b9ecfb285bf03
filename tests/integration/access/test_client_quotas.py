"""Client quotas of a service account on the real broker: the access run sets them as quotas of user=<username>,
the broker throttles the account's producer (its own statistics say so), clearing the quota or deleting the
account removes it in Kafka, and a quota changed outside the portal is drift (revert or adopt)."""

import json
import os
import uuid

import pytest
from confluent_kafka import Producer

from onboarding.models import ResourceStatus
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.kafka_quotas import KafkaQuotas
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access_drift import check_access_drift
from onboarding.services.service_account_quotas import service_account_set_quota
from onboarding.services.service_accounts import service_account_create, service_account_delete
from onboarding.services.service_accounts_drift import service_account_adopt, service_account_revert
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import apply, sasl_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_cleanup", "quota_cleanup")]

PRODUCE_QUOTA = 100 * 1024  # 100 KB/s
# The broker measures a new client's rate over its whole quota window (about ten seconds): 1.5 MB at once is
# well above 100 KB/s there. QUOTA_TEST_EVENTS scales it.
EVENTS = int(os.environ.get("QUOTA_TEST_EVENTS", "300"))
EVENT_BYTES = 5 * 1024


def _cluster_quotas() -> dict:
    with KafkaQuotas(default_kafka_connection()) as quotas:
        return quotas.describe_user_quotas()


def _quota_of(username: str) -> dict:
    return {key: int(value) for key, value in _cluster_quotas().get(username, {}).items()}


@pytest.fixture
def quota_cleanup():
    """Quotas left on the shared broker would throttle a later test's account of the same name."""
    names = []
    yield names
    from onboarding.models import ServiceAccount
    usernames = set(ServiceAccount.objects.values_list("username", flat=True)) | set(names)
    with KafkaQuotas(default_kafka_connection()) as quotas:
        quotas.alter_user_quotas({u: dict.fromkeys(("producer_byte_rate", "consumer_byte_rate",
                                                    "request_percentage")) for u in usernames})


def _ready_topic(cluster, team, actor):
    topic = topic_create(actor=actor, cluster=cluster, team=team, name=f"payments.q-{uuid.uuid4().hex[:8]}",
                         partitions=1, replication_factor=1)
    topic_reconciler.reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY, topic.last_error
    return topic


def _throttle_seen(bootstrap: str, username: str, password: str, topic: str) -> dict:
    """Produce EVENTS x 5 KB as the account; the largest broker throttle time its statistics reported (ms)."""
    seen = {"max": 0, "avg": 0}

    def on_stats(text: str) -> None:
        for broker in json.loads(text).get("brokers", {}).values():
            window = broker.get("throttle") or {}
            seen["max"] = max(seen["max"], window.get("max", 0))
            seen["avg"] = max(seen["avg"], window.get("avg", 0))

    producer = Producer({**sasl_config(bootstrap, username, password), "statistics.interval.ms": 200,
                         "stats_cb": on_stats, "linger.ms": 5, "batch.size": 64 * 1024})
    payload = os.urandom(EVENT_BYTES)
    for _ in range(EVENTS):
        producer.produce(topic, payload)
        producer.poll(0)
    assert producer.flush(120) == 0
    # Statistics come every 200 ms through poll: give the last window after the flush a chance to be reported.
    wait_for(lambda: producer.poll(0.3) >= 0 and seen["max"] > 0, timeout=10, interval=0.1,
             message=f"a broker throttle time in the producer's statistics (seen {seen})")
    return seen


def test_a_produce_quota_throttles_the_accounts_producer_and_clearing_or_deleting_removes_it(
        cluster, payments, alice, kafka_sasl_bootstrap):
    topic = _ready_topic(cluster, payments, alice)
    sa, password = service_account_create(actor=alice, cluster=cluster, team=payments,
                                          name=f"q-{uuid.uuid4().hex[:6]}")
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error

    service_account_set_quota(actor=alice, sa=sa, producer_byte_rate=PRODUCE_QUOTA)
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    wait_for(lambda: _quota_of(sa.username) == {"producer_byte_rate": PRODUCE_QUOTA}, timeout=20,
             message="the produce quota in Kafka")

    throttle = _throttle_seen(kafka_sasl_bootstrap, sa.username, password, topic.name)
    assert throttle["max"] > 0, throttle

    service_account_set_quota(actor=alice, sa=sa, producer_byte_rate=None)
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    wait_for(lambda: sa.username not in _cluster_quotas(), timeout=20, message="the cleared quota gone in Kafka")

    service_account_set_quota(actor=alice, sa=sa, consumer_byte_rate=200 * 1024, request_percentage=50)
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    wait_for(lambda: _quota_of(sa.username) == {"consumer_byte_rate": 200 * 1024, "request_percentage": 50},
             timeout=20, message="the consume and request quotas in Kafka")
    service_account_delete(actor=alice, sa=sa)
    assert apply(cluster, sa).status == ResourceStatus.DELETED, sa.last_error
    wait_for(lambda: sa.username not in _cluster_quotas(), timeout=20,
             message="the deleted account's quotas gone in Kafka")


def test_a_quota_changed_outside_the_portal_is_drift_reverted_or_adopted(cluster, payments, alice, quota_cleanup,
                                                                        client_for):
    sa, _password = service_account_create(actor=alice, cluster=cluster, team=payments,
                                           name=f"q-{uuid.uuid4().hex[:6]}")
    service_account_set_quota(actor=alice, sa=sa, producer_byte_rate=PRODUCE_QUOTA)
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    wait_for(lambda: _quota_of(sa.username) == {"producer_byte_rate": PRODUCE_QUOTA}, timeout=20,
             message="the portal's quota in Kafka")

    with KafkaQuotas(default_kafka_connection()) as quotas:  # someone with the admin connection
        assert quotas.alter_user_quotas({sa.username: {"producer_byte_rate": 5_000_000,
                                                       "consumer_byte_rate": 1024}}) == {sa.username: None}
    wait_for(lambda: _quota_of(sa.username).get("consumer_byte_rate") == 1024, timeout=20,
             message="the outside change in Kafka")
    assert sa.username in check_access_drift(cluster.pk).drifted
    sa.refresh_from_db()
    assert sa.status == ResourceStatus.DRIFTED
    assert sa.drift["quota"] == {"desired": {"producer_byte_rate": PRODUCE_QUOTA},
                                 "observed": {"producer_byte_rate": 5_000_000, "consumer_byte_rate": 1024}}
    assert "Client quota changed outside the portal" in sa.last_error
    page = client_for(alice).get("/teams/payments/service-accounts/").content.decode()
    assert ("client quota on the cluster: consumer_byte_rate 1024, producer_byte_rate 5000000; "
            "the portal's: producer_byte_rate 102400") in page

    service_account_revert(actor=alice, sa=sa)
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    wait_for(lambda: _quota_of(sa.username) == {"producer_byte_rate": PRODUCE_QUOTA}, timeout=20,
             message="the portal's quota back in Kafka")

    with KafkaQuotas(default_kafka_connection()) as quotas:
        quotas.alter_user_quotas({sa.username: {"producer_byte_rate": 300 * 1024}})
    wait_for(lambda: _quota_of(sa.username) == {"producer_byte_rate": 300 * 1024}, timeout=20,
             message="the second outside change in Kafka")
    assert sa.username in check_access_drift(cluster.pk).drifted
    sa.refresh_from_db()
    adopted = service_account_adopt(actor=alice, sa=sa)
    assert (adopted.producer_byte_rate, adopted.status) == (300 * 1024, ResourceStatus.READY)
    after = check_access_drift(cluster.pk)
    assert sa.username not in after.drifted + after.reverting
