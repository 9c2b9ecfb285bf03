"""Connectors on the real Connect worker, broker, Postgres and event store (FerretDB): a MongoDB sink declared
through the service reaches RUNNING and writes documents; a bad config gets Connect's own field errors before
anything is saved; a connector deleted behind the portal's back shows as drifted and revert restores it;
pause, resume and restart; an outsider's topic is refused."""

import json
import uuid

import pytest
import requests
from confluent_kafka import Producer
from django.conf import settings
from pymongo import MongoClient

from onboarding.errors import ValidationError
from onboarding.models import AuditEvent, Connector, ResourceStatus
from onboarding.platform.connect import Connect, ConnectConnection
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.connectors import check_connector_drift, reconcile_connectors, worker_principal
from onboarding.services.connectors import (
    connector_create,
    connector_delete,
    connector_drift_adopt,
    connector_drift_revert,
    connector_offsets,
    connector_offsets_reset,
    connector_restart,
    connector_set_state,
    connector_update,
)
from tests.fixtures.eventstore import connect_url, event_store_uri
from tests.fixtures.waiting import wait_for
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]

MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"
RECORDS = 20


@pytest.fixture
def connect_cluster(cluster):
    cluster.connect_allowed_classes = [MONGO_SINK]
    cluster.save(update_fields=["connect_allowed_classes"])
    return cluster


@pytest.fixture
def team_topic(connect_cluster, alice, payments, kafka_admin):
    """A payments topic on the broker with RECORDS plain JSON values."""
    topic = make_topic(alice, connect_cluster, payments, name=f"payments.conn-{uuid.uuid4().hex[:8]}")
    topic_reconciler.reconcile_cluster(connect_cluster.pk)
    wait_for(lambda: topic.name in kafka_admin.list_topics(timeout=10).topics, timeout=30, message="the topic")
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    for i in range(RECORDS):
        producer.produce(topic.name, key=str(i), value=json.dumps({"n": i, "kind": "payment"}))
    assert producer.flush(30) == 0
    yield topic
    kafka_admin.delete_topics([topic.name], operation_timeout=30)[topic.name].result(30)


@pytest.fixture
def store_database():
    client = MongoClient(event_store_uri(), serverSelectionTimeoutMS=10_000)
    name = f"conn_{uuid.uuid4().hex[:8]}"
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture
def worker():
    """The worker's client; connectors a test leaves behind are deleted afterwards."""
    names = []
    with Connect(ConnectConnection(connect_url())) as connect:
        yield connect, names
        for name in names:
            connect.delete(name)


def sink_config(topic: str, database: str) -> dict:
    return {"topics": topic, "connection.uri": event_store_uri(), "database": database, "collection": "events",
            "tasks.max": "1", "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "document.id.strategy": "com.mongodb.kafka.connect.sink.processor.id.strategy.KafkaMetaDataStrategy",
            # FerretDB 1.24 stalls on a bulk write of 50 or more upserts (tests/integration/test_stack_connect.py).
            "max.batch.size": "40"}


def declare(alice, payments, cluster, topic, database, worker, **extra) -> Connector:
    name = f"sink-{uuid.uuid4().hex[:6]}"
    worker[1].append(f"payments.{name}")
    return connector_create(actor=alice, team=payments, cluster=cluster, name=name, connector_class=MONGO_SINK,
                            config={**sink_config(topic.name, database.name), **extra})


def applied(connector: Connector, state: str = "RUNNING") -> Connector:
    last = [""]

    def reached():
        reconcile_connectors(connector.cluster_id)
        fresh = Connector.objects.get(pk=connector.pk)
        if fresh.status == ResourceStatus.READY:
            check_connector_drift(fresh.cluster)
            fresh.refresh_from_db()
        # A task restarted by the run may still read FAILED once; a connector that stays failed times out here
        # with its last trace in the message.
        last[0] = fresh.runtime_error
        tasks_ok = state != "RUNNING" or (fresh.task_states and all(t["state"] == state for t in fresh.task_states))
        return fresh if fresh.status == ResourceStatus.READY and fresh.connector_state == state and tasks_ok else None

    try:
        return wait_for(reached, timeout=120, interval=1, message=f"the connector {state}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the worker's last trace: {last[0][:2000]}") from None


def test_a_sink_declared_through_the_service_runs_and_writes_documents(alice, payments, connect_cluster,
                                                                      team_topic, store_database, worker):
    connector = declare(alice, payments, connect_cluster, team_topic, store_database, worker)
    assert connector.status == ResourceStatus.PENDING

    ready = applied(connector)

    assert ready.connector_state == "RUNNING" and ready.last_error == ""
    wait_for(lambda: store_database["events"].count_documents({}) == RECORDS, timeout=120, interval=1,
             message=f"{RECORDS} documents in the event store")
    assert store_database["events"].find_one({"n": 3})["kind"] == "payment"
    # The worker's principal got the topic from the reconciler, nothing else of the team.
    acls = KafkaAcls(kafka_connection_for(connect_cluster)).describe_acls(worker_principal())
    assert {(a.name, a.operation) for a in acls if a.name == team_topic.name} == {
        (team_topic.name, "READ"), (team_topic.name, "DESCRIBE")}

    connector_delete(actor=alice, connector=ready)
    wait_for(lambda: reconcile_connectors(connect_cluster.pk) and Connector.objects.get(
        pk=connector.pk).status == ResourceStatus.DELETED, timeout=60, interval=1, message="deleted")
    assert worker[0].config(ready.connector_name) is None
    acls = KafkaAcls(kafka_connection_for(connect_cluster)).describe_acls(worker_principal())
    assert not [a for a in acls if a.name == team_topic.name]


def test_a_bad_config_gets_connects_own_field_errors_and_nothing_is_saved(alice, payments, connect_cluster,
                                                                         team_topic, store_database, worker):
    with pytest.raises(ValidationError) as refused:
        declare(alice, payments, connect_cluster, team_topic, store_database, worker,
                **{"tasks.max": "several", "connection.uri": "http://not-mongodb"})

    errors = refused.value.message_dict
    assert set(errors) == {"config.tasks.max", "config.connection.uri"}
    assert "several" in errors["config.tasks.max"][0]
    assert "mongodb://" in errors["config.connection.uri"][0]
    assert not Connector.objects.exists()


def test_an_outsiders_topic_and_an_unlisted_class_are_refused(alice, payments, carol, clinical, connect_cluster,
                                                              store_database, worker):
    theirs = make_topic(carol, connect_cluster, clinical, name=f"clinical.adm-{uuid.uuid4().hex[:6]}")

    with pytest.raises(ValidationError) as refused:
        connector_create(actor=alice, team=payments, cluster=connect_cluster, name="steal",
                         connector_class="com.mongodb.kafka.connect.MongoSourceConnector",
                         config=sink_config(theirs.name, store_database.name))

    errors = refused.value.message_dict
    assert theirs.name in errors["config.topics"][0]
    assert MONGO_SINK in errors["connector_class"][0]
    assert not Connector.objects.exists()


def test_a_connector_deleted_behind_the_portals_back_drifts_and_revert_restores_it(
        alice, payments, connect_cluster, team_topic, store_database, worker):
    ready = applied(declare(alice, payments, connect_cluster, team_topic, store_database, worker))

    requests.delete(f"{connect_url()}/connectors/{ready.connector_name}", timeout=30).raise_for_status()
    report = check_connector_drift(connect_cluster)

    assert report["drifted"] == [ready.connector_name]
    drifted = Connector.objects.get(pk=ready.pk)
    assert drifted.status == ResourceStatus.DRIFTED and drifted.drift["differences"] == {"missing": True}

    connector_drift_revert(actor=alice, connector=drifted)
    restored = applied(drifted)
    assert worker[0].config(restored.connector_name)["topics"] == team_topic.name


def test_pause_resume_and_restart(alice, payments, connect_cluster, team_topic, store_database, worker):
    ready = applied(declare(alice, payments, connect_cluster, team_topic, store_database, worker))

    paused = applied(connector_set_state(actor=alice, connector=ready, state="paused"), "PAUSED")
    assert paused.desired_state == "paused"
    resumed = applied(connector_set_state(actor=alice, connector=paused, state="running"))

    connector_restart(actor=alice, connector=resumed)
    assert AuditEvent.objects.filter(action="connector.restart", resource_id=str(resumed.pk)).exists()
    assert applied(resumed).connector_state == "RUNNING"


def test_offsets_are_read_and_reset_on_a_stopped_connector(alice, payments, connect_cluster, team_topic,
                                                           store_database, worker):
    ready = applied(declare(alice, payments, connect_cluster, team_topic, store_database, worker))
    wait_for(lambda: store_database["events"].count_documents({}) == RECORDS, timeout=120, interval=1,
             message="the documents")

    def committed():
        offsets, error = connector_offsets(ready)
        assert error == ""
        return sum(o["offset"]["kafka_offset"] for o in offsets) == RECORDS

    wait_for(committed, timeout=60, interval=1, message="the sink's committed offsets")

    stopped = applied(connector_set_state(actor=alice, connector=ready, state="stopped"), "STOPPED")
    connector_offsets_reset(actor=alice, connector=stopped)

    assert connector_offsets(stopped) == ([], "")
    assert AuditEvent.objects.get(action="connector.offsets", resource_id=str(stopped.pk)).before["offsets"]


def test_a_config_changed_behind_the_portals_back_drifts_and_adopt_takes_it(alice, payments, connect_cluster,
                                                                           team_topic, store_database, worker):
    ready = applied(declare(alice, payments, connect_cluster, team_topic, store_database, worker))
    changed = {**worker[0].config(ready.connector_name), "max.batch.size": "10"}
    worker[0].put_config(ready.connector_name, changed)

    assert check_connector_drift(connect_cluster)["drifted"] == [ready.connector_name]
    drifted = Connector.objects.get(pk=ready.pk)
    assert drifted.drift["differences"] == {"max.batch.size": {"desired": "40", "observed": "10"}}

    adopted = connector_drift_adopt(actor=alice, connector=drifted)
    assert adopted.config["max.batch.size"] == "10"
    assert applied(adopted).status == ResourceStatus.READY
    assert check_connector_drift(connect_cluster)["drifted"] == []


def test_a_worker_that_does_not_answer_fails_with_backoff_and_loses_nothing(alice, payments, connect_cluster,
                                                                           team_topic, store_database, worker):
    connector = declare(alice, payments, connect_cluster, team_topic, store_database, worker)
    # A port nothing listens on: the worker is down.
    connect_cluster.connect_url = "http://127.0.0.1:9"
    connect_cluster.save(update_fields=["connect_url"])

    report = reconcile_connectors(connect_cluster.pk)

    failed = Connector.objects.get(pk=connector.pk)
    assert failed.status == ResourceStatus.FAILED and "unreachable" in failed.last_error
    assert failed.next_attempt_at is not None and report.retry_in is not None
    assert failed.config == connector.config
    connect_cluster.connect_url = ""
    connect_cluster.save(update_fields=["connect_url"])
    Connector.objects.filter(pk=connector.pk).update(next_attempt_at=None)  # the backoff has passed
    assert applied(failed).connector_state == "RUNNING"


def test_a_task_failed_by_a_poison_record_fails_the_connector_and_a_fix_restarts_it(
        alice, payments, connect_cluster, team_topic, store_database, worker):
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    producer.produce(team_topic.name, key="poison", value=b"{not json")
    assert producer.flush(30) == 0
    connector = declare(alice, payments, connect_cluster, team_topic, store_database, worker)
    reconcile_connectors(connect_cluster.pk)

    def failed():
        reconcile_connectors(connect_cluster.pk)
        fresh = Connector.objects.get(pk=connector.pk)
        if fresh.status == ResourceStatus.READY:
            check_connector_drift(connect_cluster)
            fresh.refresh_from_db()
        return fresh if fresh.status == ResourceStatus.FAILED else None

    broken = wait_for(failed, timeout=120, interval=1, message="the connector failed")
    assert "The worker reports the connector failed" in broken.last_error
    assert any(t["state"] == "FAILED" for t in broken.task_states) and broken.runtime_error

    # The team lets the sink skip what it cannot convert; the next run restarts the failed task.
    fixed = connector_update(actor=alice, connector=broken,
                             config={**broken.config, "errors.tolerance": "all"})
    assert applied(fixed).connector_state == "RUNNING"
    wait_for(lambda: store_database["events"].count_documents({}) == RECORDS, timeout=120, interval=1,
             message="the good records written")
