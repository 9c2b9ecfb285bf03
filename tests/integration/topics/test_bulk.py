"""Bulk registration: the same rules as one topic, all or nothing, one reconcile run."""

import pytest

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import ApplyAttempt, AuditEvent, ResourceStatus, Topic
from onboarding.services.topics_bulk import TopicRequest, topics_create_many
from tests.fixtures.waiting import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_registered_audited_and_applied_in_one_run(celery_worker, kafka_admin, cluster, payments,
                                                              alice, topic_name):
    requests = [TopicRequest(topic_name("bulk"), partitions=2, replication_factor=1,
                             configs={"retention.ms": 3_600_000}) for _ in range(25)]

    topics = topics_create_many(actor=alice, cluster=cluster, team=payments, requests=requests)

    ids = [t.pk for t in topics]
    assert AuditEvent.objects.filter(action="topic.create", resource_id__in=[str(i) for i in ids]).count() == 25
    wait_for(lambda: Topic.objects.filter(pk__in=ids, status=ResourceStatus.READY).count() == 25,
             message="25 topics ready")
    assert ApplyAttempt.objects.filter(topic_id__in=ids).values("run_id").distinct().count() == 1
    assert {r.name for r in requests} <= set(kafka_admin.list_topics(timeout=10).topics)


@pytest.mark.django_db
def test_one_bad_item_refuses_the_whole_batch_and_names_it(cluster, payments, alice):
    requests = [TopicRequest("payments.fine.one", partitions=1, replication_factor=1),
                TopicRequest("payments.fine.one", partitions=1, replication_factor=1),
                TopicRequest("payments.fine_one", partitions=1, replication_factor=1),
                TopicRequest("clinical.other", partitions=1, replication_factor=1),
                TopicRequest("payments.big", partitions=10_000, replication_factor=1)]

    with pytest.raises(ValidationError) as refused:
        topics_create_many(actor=alice, cluster=cluster, team=payments, requests=requests)

    messages = refused.value.message_dict["topics"]
    assert any(m.startswith("item 1: name: A topic with this name already exists") for m in messages)
    assert any(m.startswith("item 2: name: This name collides with payments.fine.one") for m in messages)
    assert any(m.startswith("item 3: name: The name must match") for m in messages)
    assert any(m.startswith("item 4: partitions: Partitions must be between") for m in messages)
    assert not Topic.objects.exists()


@pytest.mark.django_db
def test_an_outsider_cannot_register_for_another_team(cluster, payments, carol):
    with pytest.raises(PermissionDenied):
        topics_create_many(actor=carol, cluster=cluster, team=payments,
                           requests=[TopicRequest("payments.x", partitions=1, replication_factor=1)])
