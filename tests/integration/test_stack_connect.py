"""The Kafka Connect worker is real: Kafka's distributed runtime on the dev cluster, as its own SCRAM principal,
with the MongoDB sink writing topics into the event store (FerretDB). Only its REST API is used, as the portal will.

The worker's principal has no right to any connector's topic of its own (the portal's reconciler grants those per
connector), so the test grants its topic like the reconciler will.
"""

import json

import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from django.conf import settings
from pymongo import MongoClient

from tests.fixtures.eventstore import connect_principal, connect_url, event_store_uri
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.kafka

MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"
TOPIC_PARTITION_OFFSET_IDS = "com.mongodb.kafka.connect.sink.processor.id.strategy.KafkaMetaDataStrategy"
# More records than FerretDB 1.24 takes in one bulk write of replacements: an update command of 50 or more upserts
# that match existing documents holds all 50 of its pooled Postgres connections and waits forever. A replay rewrites
# existing documents, so the connector's max.batch.size of 40 is what lets it through.
RECORDS = 120


def test_the_worker_answers_and_lists_the_mongodb_sink():
    root = requests.get(f"{connect_url()}/", timeout=10)
    assert root.status_code == 200
    assert root.json()["version"] == "4.1.1"

    plugins = requests.get(f"{connect_url()}/connector-plugins", timeout=10).json()

    sinks = [plugin for plugin in plugins if plugin["class"] == MONGO_SINK]
    assert sinks == [{"class": MONGO_SINK, "type": "sink", "version": "2.0.1"}]


def _validate(config):
    response = requests.put(f"{connect_url()}/connector-plugins/MongoSinkConnector/config/validate",
                            json=config, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_bad_connector_config_gets_errors_by_field():
    verdict = _validate({"connector.class": MONGO_SINK, "name": "stack-probe-invalid", "topics": "stack.probe",
                         "tasks.max": "several", "connection.uri": "http://not-mongodb",
                         "database": "stack_probe"})

    errors = {entry["value"]["name"]: entry["value"]["errors"] for entry in verdict["configs"]
              if entry["value"]["errors"]}
    assert set(errors) == {"tasks.max", "connection.uri"}
    assert verdict["error_count"] == sum(len(messages) for messages in errors.values())
    assert "several" in errors["tasks.max"][0]
    assert "mongodb://" in errors["connection.uri"][0]


def test_a_good_connector_config_gets_no_errors(unique):
    verdict = _validate({"connector.class": MONGO_SINK, "name": f"stack-probe-{unique}", "topics": "stack.probe",
                         "connection.uri": event_store_uri(), "database": "stack_probe"})

    assert verdict["error_count"] == 0, [entry["value"] for entry in verdict["configs"] if entry["value"]["errors"]]


@pytest.fixture
def granted_topic(kafka_admin, unique):
    """A topic of plain JSON values that the worker's principal may read, as the reconciler will grant it."""
    name = f"stack.connect-probe-{unique}"
    kafka_admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result(30)
    read = AclBinding(ResourceType.TOPIC, name, ResourcePatternType.LITERAL, connect_principal(), "*",
                      AclOperation.READ, AclPermissionType.ALLOW)
    kafka_admin.create_acls([read])[read].result(30)
    yield name
    kafka_admin.delete_acls([AclBindingFilter(ResourceType.TOPIC, name, ResourcePatternType.LITERAL,
                                              connect_principal(), None, AclOperation.ANY, AclPermissionType.ANY)])
    kafka_admin.delete_topics([name], operation_timeout=30)[name].result(30)


@pytest.fixture
def store_database(unique):
    client = MongoClient(event_store_uri(), serverSelectionTimeoutMS=10_000)
    name = f"stack_connect_{unique}"
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture
def connectors(kafka_admin):
    """The names of the connectors a test creates; they are deleted afterwards, and their consumer groups."""
    names = []
    yield names
    for name in names:
        requests.delete(f"{connect_url()}/connectors/{name}", timeout=30)
    for name in names:
        # The group empties once the task has stopped; until then the broker refuses to delete it.
        wait_for(lambda name=name: _deleted_group(kafka_admin, f"connect-{name}"), timeout=60,
                 message=f"consumer group connect-{name} to be deleted")


def _deleted_group(admin, group):
    try:
        admin.delete_consumer_groups([group], request_timeout=10)[group].result(15)
        return True
    except Exception as error:  # noqa: BLE001 - GROUP_ID_NOT_FOUND means gone, anything else is retried
        return "GROUP_ID_NOT_FOUND" in str(error)


def _documents_or_failure(connector, collection, expected):
    status = requests.get(f"{connect_url()}/connectors/{connector}/status", timeout=10)
    if status.status_code == 200:
        failed = [task for task in status.json()["tasks"] if task["state"] == "FAILED"]
        assert not failed, failed[0].get("trace", failed)
    return collection.count_documents({}) == expected


def _create_sink(connectors, name, topic, database):
    created = requests.put(f"{connect_url()}/connectors/{name}/config", timeout=30, json={
        "connector.class": MONGO_SINK,
        "tasks.max": "1",
        "topics": topic,
        "connection.uri": event_store_uri(),
        "database": database,
        "collection": "events",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        # One document per record, whatever its key: replaying the topic rewrites the same documents.
        "document.id.strategy": TOPIC_PARTITION_OFFSET_IDS,
        "max.batch.size": "40",
    })
    assert created.status_code == 201, created.text
    connectors.append(name)


def test_a_mongodb_sink_writes_a_topics_json_records_to_the_event_store(granted_topic, store_database, connectors,
                                                                         unique):
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    for n in range(RECORDS):
        producer.produce(granted_topic, key=f"patient-{n % 5}",
                         value=json.dumps({"patient_id": f"patient-{n % 5}", "seq": n}), partition=n % 2)
    assert producer.flush(15) == 0

    connector = f"stack-probe-{unique}"
    _create_sink(connectors, connector, granted_topic, store_database.name)

    collection = store_database["events"]
    wait_for(lambda: _documents_or_failure(connector, collection, RECORDS), timeout=120,
             message=f"the sink to write the topic's {RECORDS} records")
    # Partition n % 2 got records n = p, p + 2, ...: offset o of partition p holds seq 2 * o + p.
    documents = {document["_id"]: document for document in collection.find()}
    assert set(documents) == {f"{granted_topic}#{p}#{o}" for p in (0, 1) for o in range(RECORDS // 2)}
    assert documents[f"{granted_topic}#1#3"]["seq"] == 7
    assert documents[f"{granted_topic}#1#3"]["patient_id"] == "patient-2"

    # A replay (a second connector, a new consumer group from the earliest offsets) rewrites the same documents.
    collection.update_many({}, {"$set": {"seq": -1}})
    _create_sink(connectors, f"stack-probe-{unique}-replay", granted_topic, store_database.name)
    wait_for(lambda: _documents_or_failure(connectors[1], collection, RECORDS)
             and collection.count_documents({"seq": -1}) == 0, timeout=120,
             message=f"the replay to rewrite the {RECORDS} documents")
    assert collection.count_documents({}) == RECORDS
    assert collection.find_one({"_id": f"{granted_topic}#1#3"})["seq"] == 7


@pytest.fixture
def ungranted_topic(kafka_admin, unique):
    """A topic the worker's principal has no right to (nothing granted it)."""
    name = f"stack.connect-ungranted-{unique}"
    kafka_admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(30)
    yield name
    kafka_admin.delete_topics([name], operation_timeout=30)[name].result(30)


def _task_trace(connector):
    status = requests.get(f"{connect_url()}/connectors/{connector}/status", timeout=10)
    if status.status_code != 200:
        return None
    failed = [task for task in status.json()["tasks"] if task["state"] == "FAILED"]
    return failed[0]["trace"] if failed else None


def test_the_worker_cannot_read_a_topic_the_reconciler_has_not_granted(ungranted_topic, store_database,
                                                                        connectors, unique):
    # The worker's own ACLs cover its internal topics and groups only: Kafka refuses it any other topic.
    connector = f"stack-probe-{unique}-ungranted"
    _create_sink(connectors, connector, ungranted_topic, store_database.name)

    trace = wait_for(lambda: _task_trace(connector), timeout=120, message="the sink task to fail")

    assert "TopicAuthorizationException" in trace
    assert ungranted_topic in trace
