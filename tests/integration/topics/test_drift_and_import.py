"""Drift found by the sweep, decided by revert or adopt; existing topics imported without recreation."""

from datetime import timedelta

import pytest
from confluent_kafka import TopicCollection
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourceType
from django.utils import timezone

from onboarding.models import AuditEvent, Cluster, ResourceStatus, Topic
from onboarding.reconcile.sweep import sweep
from onboarding.services.imports import topics_import, unmanaged_topics
from onboarding.services.topics import topic_create
from onboarding.services.topics_drift import topic_adopt, topic_revert
from tests.fixtures.topics import broker_topic
from tests.fixtures.waiting import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def _ready_topic(cluster, team, actor, name, **configs):
    topic = topic_create(actor=actor, cluster=cluster, team=team, name=name, partitions=2, replication_factor=1,
                         configs={"retention.ms": "3600000", **configs})
    return wait_for_status(topic, ResourceStatus.READY)


def _set_config_behind_the_portals_back(kafka_admin, name, key, value):
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)])
    kafka_admin.incremental_alter_configs([resource])[resource].result(30)


def _sweep_now(cluster):
    """Run the sweep as beat would once the check interval (and the new-topic grace) has passed."""
    Cluster.objects.filter(pk=cluster.pk).update(last_checked_at=None)
    Topic.objects.filter(cluster=cluster).update(ready_at=timezone.now() - timedelta(hours=1))
    return sweep()


def test_the_sweep_flags_changed_and_deleted_topics_and_revert_restores_them(
        celery_worker, kafka_admin, cluster, payments, alice, topic_name):
    changed = _ready_topic(cluster, payments, alice, topic_name("changed"))
    deleted = _ready_topic(cluster, payments, alice, topic_name("deleted"))
    _set_config_behind_the_portals_back(kafka_admin, changed.name, "retention.ms", "120000")
    kafka_admin.delete_topics([deleted.name])[deleted.name].result(30)

    summary = _sweep_now(cluster)

    assert set(summary["local"]["drift_check"]["drifted"]) == {changed.name, deleted.name}
    changed.refresh_from_db()
    deleted.refresh_from_db()
    assert changed.status == deleted.status == ResourceStatus.DRIFTED
    assert changed.drift == {"configs": {"retention.ms": {"desired": "3600000", "observed": "120000"}}}
    assert deleted.drift == {"exists": {"desired": True, "observed": False}}

    for topic in (changed, deleted):
        topic_revert(actor=alice, topic=topic)
        wait_for_status(topic, ResourceStatus.READY)
    assert broker_topic(kafka_admin, changed.name) == (2, {"retention.ms": "3600000"})
    assert broker_topic(kafka_admin, deleted.name) == (2, {"retention.ms": "3600000"})


def test_adopt_takes_the_observed_values_into_the_desired_state_and_is_audited(
        celery_worker, kafka_admin, cluster, payments, alice, topic_name):
    topic = _ready_topic(cluster, payments, alice, topic_name("adopt"))
    _set_config_behind_the_portals_back(kafka_admin, topic.name, "retention.ms", "7200000")
    _sweep_now(cluster)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.DRIFTED

    topic_adopt(actor=alice, topic=topic)

    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY and topic.configs == {"retention.ms": "7200000"}
    assert topic.generation == 2 and topic.drift is None
    event = AuditEvent.objects.get(action="topic.drift.adopt", resource_id=str(topic.pk))
    assert event.before["configs"] == {"retention.ms": "3600000"}
    assert event.after["configs"] == {"retention.ms": "7200000"}
    assert _sweep_now(cluster)["local"]["drift_check"]["drifted"] == []


def test_a_cluster_set_to_revert_heals_drift_by_itself(celery_worker, kafka_admin, cluster, payments, alice,
                                                      topic_name):
    Cluster.objects.filter(pk=cluster.pk).update(drift_reaction=Cluster.DriftReaction.REVERT)
    topic = _ready_topic(cluster, payments, alice, topic_name("heal"))
    _set_config_behind_the_portals_back(kafka_admin, topic.name, "retention.ms", "120000")

    assert topic.name in _sweep_now(cluster)["local"]["drift_check"]["reverting"]

    wait_for_status(topic, ResourceStatus.READY)
    assert broker_topic(kafka_admin, topic.name)[1] == {"retention.ms": "3600000"}


def test_existing_topics_are_imported_and_become_ready_without_recreation(
        celery_worker, kafka_admin, cluster, payments, operator, topic_name):
    names = [topic_name("legacy"), topic_name("legacy")]
    futures = kafka_admin.create_topics([NewTopic(n, 4, 1, config={"cleanup.policy": "compact"}) for n in names])
    for future in futures.values():
        future.result(30)
    created_at = {n: _creation_marker(kafka_admin, n) for n in names}

    listed = {t.name for t in unmanaged_topics(cluster)}
    assert set(names) <= listed

    imported = topics_import(actor=operator, cluster=cluster, team=payments, names=names)

    for topic in imported:
        wait_for_status(topic, ResourceStatus.READY)
        assert (topic.partitions, topic.configs) == (4, {"cleanup.policy": "compact"})
        assert _creation_marker(kafka_admin, topic.name) == created_at[topic.name], "recreated"
        assert topic.attempts.get().actions == []
    assert not set(names) & {t.name for t in unmanaged_topics(cluster)}
    assert Topic.objects.filter(name__in=names, team=payments).count() == 2


def _creation_marker(kafka_admin, name):
    """The topic id changes when a topic is deleted and created again."""
    return str(kafka_admin.describe_topics(TopicCollection([name]))[name].result(10).topic_id)
