"""Topics reach the real broker through services, Celery and the batched reconciler."""

import threading

import pytest
from django.db import connection

from onboarding.models import ApplyAttempt, AuditEvent, ResourceStatus, Topic
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.services.topics import topic_create, topic_delete, topic_update
from tests.fixtures.topics import broker_topic
from tests.fixtures.waiting import wait_for, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_topic_goes_from_pending_to_ready_on_the_broker(celery_worker, kafka_admin, cluster, payments, alice,
                                                         topic_name):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("orders"), partitions=3,
                         replication_factor=1, configs={"retention.ms": 3_600_000})
    assert topic.status == ResourceStatus.PENDING and topic.generation == 1

    topic = wait_for_status(topic, ResourceStatus.READY)

    assert topic.observed_generation == topic.generation == 1
    assert broker_topic(kafka_admin, topic.name) == (3, {"retention.ms": "3600000"})
    attempt = topic.attempts.get()
    assert attempt.outcome == ApplyAttempt.Outcome.READY and attempt.duration_ms >= 0
    assert "create topic with 3 partitions" in attempt.actions[0]
    assert AuditEvent.objects.filter(action="topic.create", resource_id=str(topic.pk), actor=alice).exists()


def test_config_changes_partition_growth_and_delete_reach_the_broker(celery_worker, kafka_admin, cluster, payments,
                                                                   bob, topic_name):
    topic = topic_create(actor=bob, cluster=cluster, team=payments, name=topic_name(), partitions=2,
                         replication_factor=1, configs={"retention.ms": "3600000", "segment.ms": "3600000"})
    wait_for_status(topic, ResourceStatus.READY)

    topic = topic_update(actor=bob, topic=topic, expected_generation=1, partitions=5,
                         configs={"retention.ms": "7200000", "cleanup.policy": "compact"})
    assert topic.generation == 2
    wait_for_status(topic, ResourceStatus.READY)
    assert topic.observed_generation == 2
    # segment.ms was dropped from the desired configs, so it goes back to the broker default.
    assert broker_topic(kafka_admin, topic.name) == (5, {"retention.ms": "7200000", "cleanup.policy": "compact"})

    topic_delete(actor=bob, topic=topic, confirm_name=topic.name)
    wait_for_status(topic, ResourceStatus.DELETED)
    assert broker_topic(kafka_admin, topic.name) is None
    assert Topic.objects.filter(pk=topic.pk, deleted_at__isnull=False).exists()


def test_a_burst_of_topics_is_applied_in_few_batched_runs(celery_worker, kafka_admin, cluster, payments, alice,
                                                        topic_name):
    from django.db import transaction

    with transaction.atomic():
        topics = [topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("burst"),
                               partitions=1, replication_factor=1) for _ in range(30)]

    wait_for(lambda: Topic.objects.filter(pk__in=[t.pk for t in topics], status="ready").count() == 30,
             message="30 topics ready")
    runs = set(ApplyAttempt.objects.filter(topic__in=topics).values_list("run_id", flat=True))
    assert len(runs) == 1, "one commit should give one reconcile run for the whole burst"
    on_broker = set(kafka_admin.list_topics(timeout=10).topics)
    assert {t.name for t in topics} <= on_broker


def test_a_stale_generation_is_refused_not_overwritten(cluster, payments, alice, bob, topic_name):
    from onboarding.errors import Conflict

    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name(), partitions=1,
                         replication_factor=1)
    topic_update(actor=alice, topic=topic, expected_generation=1, partitions=2)

    with pytest.raises(Conflict) as stale:
        topic_update(actor=bob, topic=topic, expected_generation=1, partitions=3)

    assert stale.value.current_generation == 2
    topic.refresh_from_db()
    assert topic.partitions == 2


def test_two_concurrent_runs_never_apply_the_same_generation(kafka_admin, cluster, payments, alice, topic_name):
    # Two runs race in two threads for the same 10 pending topics (a worker, if running, is a third).
    topics = [topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("race"), partitions=1,
                           replication_factor=1) for _ in range(10)]
    reports = []

    def run():
        try:
            reports.append(reconcile_cluster(cluster.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(reports) == 2
    for topic in topics:
        wait_for_status(topic, ResourceStatus.READY)
        assert topic.attempts.count() == 1, f"{topic.name} was applied twice"
