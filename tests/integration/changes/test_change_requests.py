"""Change requests on the real stack: the gate, four eyes, expiry, stale bases and the impact a reviewer sees."""

import uuid
from datetime import timedelta

import pytest
from confluent_kafka import Consumer, Producer
from django.conf import settings
from django.utils import timezone

from onboarding.changes.requests import (
    change_request_approve,
    change_request_refresh,
    change_request_reject,
    change_requests_expire,
)
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, Topic
from onboarding.services.topics import topic_create, topic_delete, topic_update
from tests.fixtures.topics import broker_topic
from tests.fixtures.waiting import wait_for, wait_for_status

VIA = AuditEvent.Via.API


def _request_create(alice, cluster, payments, name):
    return topic_create(actor=alice, cluster=cluster, team=payments, name=name, partitions=2, replication_factor=1,
                        configs={"retention.ms": 3_600_000}, via=VIA)


@pytest.mark.django_db
def test_a_gated_create_opens_a_request_with_its_plan_and_changes_nothing(cluster, payments, alice, gated,
                                                                          topic_name, kafka_admin):
    gated(cluster, "topic.create")
    name = topic_name("gated")

    cr = _request_create(alice, cluster, payments, name)

    assert isinstance(cr, ChangeRequest) and cr.status == "pending"
    assert not Topic.objects.filter(name=name).exists()
    assert broker_topic(kafka_admin, name) is None
    step = cr.plan["steps"][0]
    assert step["operation"] == "topic.create"
    assert step["actions"] == ["create topic with 2 partitions, replication factor 1, retention.ms=3600000"]
    assert cr.expires_at - cr.refreshed_at == timedelta(hours=72)
    assert AuditEvent.objects.filter(action="change_request.open", resource_id=str(cr.pk)).exists()


@pytest.mark.django_db
def test_bad_input_is_refused_and_never_becomes_a_request(cluster, payments, alice, gated):
    gated(cluster, "topic.create")
    with pytest.raises(ValidationError) as refused:
        topic_create(actor=alice, cluster=cluster, team=payments, name="clinical.nope", partitions=1,
                     replication_factor=1, via=VIA)
    assert "name" in refused.value.message_dict
    assert not ChangeRequest.objects.exists()


@pytest.mark.django_db
def test_a_cluster_without_gates_applies_at_once(cluster, payments, alice, topic_name):
    assert isinstance(_request_create(alice, cluster, payments, topic_name("free")), Topic)


@pytest.mark.django_db
def test_the_requester_a_viewer_and_a_member_cannot_approve_and_an_outsider_cannot_see(
        cluster, payments, alice, bob, vera, carol, gated, topic_name):
    gated(cluster, "topic.create")
    cr = _request_create(alice, cluster, payments, topic_name("eyes"))

    with pytest.raises(PermissionDenied, match="someone else must approve"):
        change_request_approve(actor=alice, change_request=cr, via=VIA)
    for person in (vera, bob):
        with pytest.raises(PermissionDenied):
            change_request_approve(actor=person, change_request=cr, via=VIA)
    with pytest.raises(NotFound):
        change_request_approve(actor=carol, change_request=cr, via=VIA)
    cr.refresh_from_db()
    assert cr.status == "pending"


@pytest.mark.django_db
def test_an_operators_only_policy_refuses_another_owner(cluster, payments, alice, otto, operator, gated,
                                                        topic_name):
    gated(cluster, "topic.create", approvers="operators")
    cr = _request_create(alice, cluster, payments, topic_name("ops"))
    with pytest.raises(PermissionDenied, match="platform operators"):
        change_request_approve(actor=otto, change_request=cr, via=VIA)


@pytest.mark.django_db(transaction=True)
def test_another_owner_approves_and_the_topic_becomes_ready_on_the_broker(
        celery_worker, cluster, payments, alice, otto, gated, topic_name, kafka_admin):
    gated(cluster, "topic.create")
    name = topic_name("approved")
    cr = _request_create(alice, cluster, payments, name)

    cr = change_request_approve(actor=otto, change_request=cr, comment="looks right", via=VIA)

    assert cr.status == "applied" and cr.decided_by == otto and cr.decision_comment == "looks right"
    topic = Topic.objects.get(name=name)
    created = AuditEvent.objects.get(action="topic.create", resource_id=str(topic.pk))
    assert created.actor == alice
    assert AuditEvent.objects.filter(action="change_request.applied", note="Approved by otto").exists()
    wait_for_status(topic, "ready")
    assert broker_topic(kafka_admin, name) == (2, {"retention.ms": "3600000"})


@pytest.mark.django_db
def test_a_rejected_request_applies_nothing(cluster, payments, alice, operator, gated, topic_name):
    gated(cluster, "topic.create")
    name = topic_name("rejected")
    cr = _request_create(alice, cluster, payments, name)

    cr = change_request_reject(actor=operator, change_request=cr, comment="not in prod yet", via=VIA)

    assert cr.status == "rejected" and cr.decision_comment == "not in prod yet"
    assert not Topic.objects.filter(name=name).exists()
    with pytest.raises(ValidationError, match="rejected"):
        change_request_approve(actor=operator, change_request=cr, via=VIA)


@pytest.mark.django_db
def test_requests_past_their_expiry_expire_and_cannot_be_approved(cluster, payments, alice, operator, gated,
                                                                  topic_name):
    gated(cluster, "topic.create")
    old = _request_create(alice, cluster, payments, topic_name("old"))
    fresh = _request_create(alice, cluster, payments, topic_name("fresh"))
    ChangeRequest.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert change_requests_expire() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == ("expired", "pending")

    late = _request_create(alice, cluster, payments, topic_name("late"))
    ChangeRequest.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        change_request_approve(actor=operator, change_request=late, via=VIA)
    late.refresh_from_db()
    assert late.status == "expired"


@pytest.mark.django_db
def test_a_request_whose_target_moved_on_must_be_refreshed_before_approval(cluster, payments, alice, otto,
                                                                           operator, gated, topic_name):
    topic = _request_create(alice, cluster, payments, topic_name("stale"))
    gated(cluster, "topic.update")
    cr = topic_update(actor=alice, topic=topic, partitions=3, via=VIA)
    assert cr.base_generation == topic.generation
    assert cr.plan["steps"][0]["actions"] == ["increase partitions to 3"]
    Topic.objects.filter(pk=topic.pk).update(generation=topic.generation + 1)  # someone changed it meanwhile

    with pytest.raises(ValidationError, match="Refresh the request"):
        change_request_approve(actor=otto, change_request=cr, via=VIA)

    cr = change_request_refresh(actor=alice, change_request=cr, via=VIA)
    assert cr.base_generation == topic.generation + 1
    cr = change_request_approve(actor=operator, change_request=cr, via=VIA)
    assert cr.status == "applied"
    topic.refresh_from_db()
    assert topic.partitions == 3


@pytest.mark.django_db
def test_a_request_that_the_service_refuses_when_applied_fails_with_the_reason(cluster, payments, alice, otto,
                                                                              gated, topic_name):
    gated(cluster, "topic.create")
    name = topic_name("twice")
    first, second = (_request_create(alice, cluster, payments, name) for _ in range(2))
    change_request_approve(actor=otto, change_request=first, via=VIA)

    second = change_request_approve(actor=otto, change_request=second, via=VIA)

    assert second.status == "failed"
    assert "already exists" in second.error
    assert Topic.objects.filter(name=name).count() == 1


def _produce_and_consume(topic: str, group: str, *, produced: int, consumed: int) -> None:
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    for i in range(produced):
        producer.produce(topic, value=f"event-{i}".encode(), partition=0)
    assert producer.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        consumer.subscribe([topic])
        read = []
        wait_for(lambda: (m := consumer.poll(0.5)) is not None and not m.error() and read.append(m)
                 or len(read) >= consumed, timeout=30, message="records consumed")
        consumer.commit(message=read[consumed - 1], asynchronous=False)
    finally:
        consumer.close()


@pytest.mark.django_db(transaction=True)
def test_the_impact_lists_readers_with_their_lag_and_recent_traffic(celery_worker, cluster, payments, alice,
                                                                    gated, topic_name):
    topic = wait_for_status(_request_create(alice, cluster, payments, topic_name("read")), "ready")
    group = f"payments.reader-{uuid.uuid4().hex[:6]}"
    _produce_and_consume(topic.name, group, produced=5, consumed=2)
    gated(cluster, "topic.delete")

    cr = topic_delete(actor=alice, topic=topic, confirm_name=topic.name, via=VIA)

    assert isinstance(cr, ChangeRequest)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY and not topic.wants_deletion
    [entry] = cr.impact["topics"]
    assert {"group": group, "lag": 3, "partitions": 1} in entry["consumer_groups"]
    assert entry["recent_messages"] == 5
    assert cr.impact["kafka_error"] == ""
    assert cr.plan["steps"][0]["actions"] == ["delete topic"]


@pytest.mark.django_db
def test_a_request_still_opens_when_kafka_does_not_answer_and_says_so(payments, alice, gated):
    from onboarding.services.clusters import cluster_create

    offline = cluster_create(actor=None, name="offline", environment="dev", bootstrap_servers="127.0.0.1:9",
                             registry_url="http://127.0.0.1:9", reconcile_interval_seconds=60)
    topic = topic_create(actor=alice, cluster=offline, team=payments, name="payments.offline", partitions=1,
                         replication_factor=1, via=VIA)
    # As if it had reached the cluster before it went quiet (a never-applied topic needs no request).
    Topic.objects.filter(pk=topic.pk).update(status="ready", observed_generation=topic.generation)
    topic.refresh_from_db()
    gated(offline, "topic.delete")

    cr = topic_delete(actor=alice, topic=topic, confirm_name=topic.name, via=VIA)

    assert cr.status == "pending"
    assert "Kafka did not answer" in cr.plan["kafka_error"]
    assert "Kafka did not answer" in cr.impact["kafka_error"]
    assert cr.impact["topics"][0]["consumer_groups"] is None
