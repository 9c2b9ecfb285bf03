"""Importing a topic brings its registry subjects along, as schemas the reconciler confirms without re-registering."""

import json

import pytest
from confluent_kafka.admin import NewTopic

from onboarding.models import ApplyAttempt, AuditEvent, Cluster, ResourceStatus
from onboarding.services.imports import registry_subjects_for, topics_import
from tests.fixtures.schemas import ORDER_V1, ORDER_V2
from tests.fixtures.waiting import wait_for, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def _legacy_topic(kafka_admin, name):
    kafka_admin.create_topics([NewTopic(name, 1, 1)])[name].result(30)
    wait_for(lambda: name in kafka_admin.list_topics(timeout=10).topics, timeout=30, message=f"{name} in metadata")


def _register(registry_http, registry_url, subject, document):
    response = registry_http.post(f"{registry_url}/subjects/{subject}/versions",
                                  data=json.dumps({"schema": json.dumps(document)}), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _registry_versions(registry_http, registry_url, subject):
    return registry_http.get(f"{registry_url}/subjects/{subject}/versions", timeout=10).json()


def test_an_imported_topic_brings_its_subject_and_versions_without_registering_again(
        celery_worker, kafka_admin, registry_http, registry_url, registry_subjects, cluster, payments, operator,
        topic_name):
    name = topic_name("legacy")
    subject = f"{name}-value"
    _legacy_topic(kafka_admin, name)
    registry_subjects.append(subject)  # soft, then permanent delete at the end
    ids = [_register(registry_http, registry_url, subject, doc) for doc in (ORDER_V1, ORDER_V2)]
    assert registry_subjects_for(cluster, [name, "payments.nothing-here"]) == {name: ["value"]}

    imported = topics_import(actor=operator, cluster=cluster, team=payments, names=[name])

    assert imported.registry_problem == ""
    topic = wait_for_status(imported[0], ResourceStatus.READY)
    schema = wait_for_status(topic.schemas.get(), ResourceStatus.READY, ResourceStatus.FAILED)
    assert schema.status == ResourceStatus.READY, schema.last_error
    assert (schema.side, schema.format) == ("value", "AVRO")
    assert _registry_versions(registry_http, registry_url, subject) == [1, 2]
    rows = list(schema.versions.order_by("number").values_list("number", "registry_version", "registry_id", "note"))
    assert rows == [(1, 1, ids[0], "Imported from the registry."), (2, 2, ids[1], "Imported from the registry.")]
    actions = [a for attempt in ApplyAttempt.objects.filter(schema=schema) for a in attempt.actions]
    assert not [a for a in actions if a.startswith("register")], actions
    event = AuditEvent.objects.get(action="schema.import", resource_id=str(schema.pk))
    assert event.actor == operator and [v["registry_version"] for v in event.after["versions"]] == [1, 2]


def test_topics_are_imported_even_when_the_registry_cannot_be_reached(
        celery_worker, kafka_admin, cluster, payments, operator, topic_name):
    name = topic_name("noregistry")
    _legacy_topic(kafka_admin, name)
    Cluster.objects.filter(pk=cluster.pk).update(registry_url="http://127.0.0.1:9/apis/ccompat/v7")
    cluster.refresh_from_db()

    imported = topics_import(actor=operator, cluster=cluster, team=payments, names=[name])

    assert "unreachable" in imported.registry_problem and imported.schemas == []
    topic = wait_for_status(imported[0], ResourceStatus.READY)
    assert not topic.schemas.exists()
    note = AuditEvent.objects.get(action="topic.import", resource_id=str(topic.pk)).note
    assert "subjects were not imported" in note
