"""Nothing saved is lost when Kafka, Redis or a worker fails: work is delayed, retried, then done."""

import pytest

from onboarding.models import ApplyAttempt, ResourceStatus, Topic
from onboarding.services.topics import topic_create
from onboarding.services.topics_bulk import TopicRequest, topics_create_many
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _create(count, cluster, team, actor, topic_name, stem):
    return [topic_create(actor=actor, cluster=cluster, team=team, name=topic_name(stem), partitions=1,
                         replication_factor=1) for _ in range(count)]


def _statuses(topics):
    return list(Topic.objects.filter(pk__in=[t.pk for t in topics]).values_list("status", flat=True))


def _all_ready(topics):
    return lambda: set(_statuses(topics)) == {ResourceStatus.READY}


def test_topics_wait_out_a_broker_outage_and_become_ready_with_no_one_acting(
        celery_worker, celery_beat, service_control, kafka_admin, cluster, payments, alice, topic_name):
    service_control.stop("kafka")
    topics = _create(50, cluster, payments, alice, topic_name, "outage")

    def retried_with_error():
        rows = Topic.objects.filter(pk__in=[t.pk for t in topics])
        # Between retries a topic is failed; during one it is applying again, with the last error kept.
        return all(t.status in (ResourceStatus.FAILED, ResourceStatus.APPLYING) and t.last_error
                   and t.failures >= 2 for t in rows)

    wait_for(retried_with_error, timeout=120, message="all 50 failed with an error and retried at least twice")
    assert "Kafka" in Topic.objects.get(pk=topics[0].pk).last_error

    service_control.start("kafka")

    wait_for(_all_ready(topics), timeout=180, message="all 50 ready after the broker came back")
    on_broker = set(kafka_admin.list_topics(timeout=10).topics)
    assert {t.name for t in topics} <= on_broker


def test_a_worker_killed_mid_run_leaves_nothing_behind(
        celery_worker, celery_beat, service_control, kafka_admin, cluster, payments, alice, topic_name):
    # Freeze the broker so the run is certainly in flight (claimed, waiting on Kafka) when the worker dies.
    service_control.pause("kafka")
    # One bulk registration, so one run claims all 50 at once.
    topics = topics_create_many(actor=alice, cluster=cluster, team=payments, requests=[
        TopicRequest(topic_name("killed"), partitions=1, replication_factor=1) for _ in range(50)])
    wait_for(lambda: set(_statuses(topics)) == {ResourceStatus.APPLYING}, timeout=30, interval=0.05,
             message="the run to claim all 50 topics")

    celery_worker.kill()
    service_control.resume("kafka")
    celery_worker.start()

    wait_for(_all_ready(topics), timeout=180, message="all 50 ready after the worker restarted")
    assert not ApplyAttempt.objects.filter(topic__in=topics, error__icontains="already exists").exists()
    for topic in Topic.objects.filter(pk__in=[t.pk for t in topics]):
        assert topic.observed_generation == topic.generation == 1
    assert {t.name for t in topics} <= set(kafka_admin.list_topics(timeout=10).topics)


def test_pending_work_survives_a_redis_restart(
        celery_worker, celery_beat, service_control, cluster, payments, alice, topic_name):
    service_control.stop("redis")
    # Saving works without Redis: the rows are in Postgres; only the wake-up call is lost.
    topics = _create(10, cluster, payments, alice, topic_name, "redis")
    assert set(_statuses(topics)) == {ResourceStatus.PENDING}

    service_control.start("redis")

    wait_for(_all_ready(topics), timeout=180, message="all 10 ready after Redis came back")
