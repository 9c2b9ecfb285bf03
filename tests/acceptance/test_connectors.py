"""Connectors as a team uses them: a MongoDB sink declared through the portal's API over HTTP, applied by the
stack's worker process to the stack's Kafka Connect worker, running and writing the team's events (produced by its
own SCRAM account) into the event store; deleted through the API, and gone from the worker."""

import os

import pytest
import requests
from pymongo import MongoClient

from tests.acceptance import kafka, steps
from tests.acceptance.http import wait_for

MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"
EVENTS = [{"id": i, "kind": "payment", "amount": 10 * i} for i in range(1, 13)]


@pytest.fixture(scope="module")
def store(run):
    client = MongoClient(os.environ["EVENT_STORE_URI"], serverSelectionTimeoutMS=10_000)
    database = client[f"{run}_connectors"]
    yield database
    client.drop_database(database.name)
    client.close()


def test_a_team_declares_a_sink_connector_and_it_runs(as_user, run, store):
    alice = as_user("alice")
    topic = steps.topic(alice, name=f"payments.{run}-payments-log", team="payments", partitions=1)
    app = steps.service_account(alice, team="payments", name=f"{run}-conn-app")
    kafka.produce_json(kafka.client_config(app), topic["name"], EVENTS)

    connector = alice.created("connectors/", {
        "team": "payments", "cluster": "local", "name": f"{run}-store", "connector_class": MONGO_SINK,
        "config": {"topics": topic["name"], "connection.uri": os.environ["EVENT_STORE_URI"],
                   "database": store.name, "collection": "events", "tasks.max": 1,
                   "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                   "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                   "value.converter.schemas.enable": False, "max.batch.size": 40}})
    assert connector["connector_name"] == f"payments.{run}-store"
    url = f"connectors/{connector['id']}/"

    alice.wait_status(url, timeout=120)

    def running():
        body = alice.ok(url)
        return body if body["connector_state"] == "RUNNING" and body["task_states"] and all(
            task["state"] == "RUNNING" for task in body["task_states"]) else None

    running_body = wait_for(running, timeout=120, message="the connector and its task RUNNING")
    assert running_body["runtime_error"] == ""
    wait_for(lambda: store["events"].count_documents({}) == len(EVENTS), timeout=120,
             message=f"{len(EVENTS)} documents in the event store")

    gone = alice.delete(url)
    assert gone.status_code == 202, gone.text
    alice.wait_status(url, "deleted", timeout=90)
    answer = requests.get(f"{os.environ['CONNECT_URL']}/connectors/{connector['connector_name']}", timeout=10)
    assert answer.status_code == 404
