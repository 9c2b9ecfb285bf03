"""Partitions raised outside the portal: Kafka cannot shrink them, so revert is refused with that reason
(in the service, the API and on the page, where the button is not offered) and adopt takes the observed
count, also for a topic whose earlier revert failed on it."""

from datetime import timedelta

import pytest
from confluent_kafka.admin import NewPartitions
from django.utils import timezone
from rest_framework.test import APIClient

from onboarding.errors import ValidationError
from onboarding.models import ApiToken, AuditEvent, Cluster, ResourceStatus, Topic
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.topics_drift import check_drift
from onboarding.services.topics import topic_create
from onboarding.services.topics_drift import topic_adopt, topic_revert
from tests.fixtures.actors import PASSWORD
from tests.fixtures.topics import broker_topic
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SHRINK = "Kafka cannot shrink partitions"


def _ready(cluster, payments, alice, name) -> Topic:
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=name, partitions=2, replication_factor=1)
    topic_reconciler.reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY, topic.last_error
    Topic.objects.filter(pk=topic.pk).update(ready_at=timezone.now() - timedelta(hours=1))  # past the grace
    return topic


def _raise_partitions_outside(kafka_admin, name, count):
    kafka_admin.create_partitions([NewPartitions(name, count)])[name].result(30)
    wait_for(lambda: broker_topic(kafka_admin, name)[0] == count, timeout=20, message=f"{name} at {count}")


def test_partitions_raised_outside_are_adopted_and_revert_says_why_it_cannot(
        client, kafka_admin, cluster, payments, alice, topic_name):
    topic = _ready(cluster, payments, alice, topic_name("grown"))
    _raise_partitions_outside(kafka_admin, topic.name, 4)
    assert check_drift(cluster.pk).drifted == [topic.name]
    topic.refresh_from_db()
    assert topic.drift == {"partitions": {"desired": 2, "observed": 4}}

    with pytest.raises(ValidationError) as refused:
        topic_revert(actor=alice, topic=topic)
    assert SHRINK in refused.value.messages[0] and "adopt" in refused.value.messages[0]

    _, token = ApiToken.new(user=alice, name="t", scope=ApiToken.Scope.WRITE)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    answer = api.post(f"/api/v1/topics/{topic.pk}/revert/")
    assert answer.status_code == 400 and SHRINK in str(answer.json()), answer.content

    client.login(username="alice", password=PASSWORD)
    page = client.get(f"/topics/{topic.pk}/").content.decode()
    assert 'data-testid="revert-refused"' in page and SHRINK in page
    assert f'action="/topics/{topic.pk}/revert/"' not in page and f"/topics/{topic.pk}/adopt/" in page

    topic_adopt(actor=alice, topic=topic)
    topic.refresh_from_db()
    assert (topic.status, topic.partitions, topic.drift) == (ResourceStatus.READY, 4, None)
    assert AuditEvent.objects.filter(action="topic.drift.adopt", resource_id=str(topic.pk)).exists()
    assert check_drift(cluster.pk).drifted == []


def test_a_topic_whose_revert_failed_on_shrinking_can_still_be_adopted(
        kafka_admin, cluster, payments, alice, topic_name):
    topic = _ready(cluster, payments, alice, topic_name("stuck"))
    _raise_partitions_outside(kafka_admin, topic.name, 3)
    check_drift(cluster.pk)
    # How such topics were left before revert was refused: the revert ran, failed, the drift still shown.
    Topic.objects.filter(pk=topic.pk).update(status=ResourceStatus.PENDING)
    topic_reconciler.reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.FAILED and topic.drift is not None

    topic_adopt(actor=alice, topic=topic)
    topic.refresh_from_db()
    assert (topic.status, topic.partitions) == (ResourceStatus.READY, 3)


def test_a_reverting_cluster_reports_what_it_cannot_revert_instead_of_failing(
        kafka_admin, cluster, payments, alice, topic_name):
    Cluster.objects.filter(pk=cluster.pk).update(drift_reaction=Cluster.DriftReaction.REVERT)
    topic = _ready(cluster, payments, alice, topic_name("auto"))
    _raise_partitions_outside(kafka_admin, topic.name, 3)
    report = check_drift(cluster.pk)
    assert (report.drifted, report.reverting) == ([topic.name], [])
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.DRIFTED and SHRINK in topic.last_error
