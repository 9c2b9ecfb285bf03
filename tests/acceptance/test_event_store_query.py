"""Querying the event store as a team does, over HTTP only: alice keeps her topic in the event store through the
API, publishes admissions through the gateway, and queries them through the portal's API with her token: by an
indexed field and a time range, page after page with the signed cursor, the field her team tagged PHI masked and
refused as a filter, $where refused at its path; bob (clinical) is refused."""

import datetime as dt
import json
import os

import pytest
import requests

from tests.acceptance import steps
from tests.acceptance.gateway_rest import team_gateway
from tests.acceptance.http import wait_for

ADMISSION_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {
    "id": {"type": "integer"},
    "patient": {"type": "object", "properties": {"name": {"type": "string"}, "ssn": {"type": "string"}}},
    "ward": {"type": "string"}}, "required": ["id", "patient", "ward"]}
COUNT = 12


@pytest.fixture(scope="module")
def gateway(as_user, stack, run):
    return team_gateway(as_user("alice"), stack.gateway_url, team="payments", name=f"{run} event store")


def query(api, topic: dict, body: dict):
    return api.post(f"event-store/{topic['name']}/query", body)


def test_a_team_queries_its_topic_in_the_event_store(as_user, run, gateway):
    alice, bob = as_user("alice"), as_user("bob")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    topic = steps.topic(alice, name=f"payments.{run}-admissions-store", team="payments", partitions=2)
    schema = alice.created("schemas/", {"topic": topic["id"], "side": "value", "format": "JSON",
                                        "schema": json.dumps(ADMISSION_SCHEMA)})
    alice.wait_status(f"schemas/{schema['id']}/")
    tagged = alice.post(f"schemas/{schema['id']}/sensitive-fields/", {"path": "patient.ssn", "classification": "phi"})
    assert tagged.status_code == 201, tagged.text
    bound = alice.put(f"topics/{topic['id']}/event-store/", {"mode": "log", "indexed_fields": ["ward"]})
    assert bound.status_code == 201, bound.text
    try:
        queried(alice, bob, topic, gateway, started)
    finally:
        # Unbound through the API: the worker removes the sink from the shared Connect worker.
        assert alice.delete(f"topics/{topic['id']}/event-store/").status_code == 202
        connector = f"{os.environ['CONNECT_URL']}/connectors/{bound.json()['connector_name']}"
        wait_for(lambda: requests.get(connector, timeout=10).status_code == 404, timeout=120,
                 message="the sink gone from the Connect worker")


def queried(alice, bob, topic: dict, gateway, started: dt.datetime) -> None:
    alice.wait_status(f"topics/{topic['id']}/event-store/", timeout=180)

    published = gateway.produce_batch(topic["name"], [
        {"id": str(i), "value": {"type": "JSONSCHEMA", "data": {
            "id": i, "ward": "ICU" if i % 2 else "A&E", "patient": {"name": f"Patient {i}", "ssn": f"123-45-{i:04d}"}}}}
        for i in range(COUNT)])
    assert published.status_code == 207 and not published.json()["failures"], published.text

    def stored():
        answer = query(alice, topic, {"limit": 100})
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json()["count"] == COUNT else None

    everything = wait_for(stored, timeout=180, message=f"{COUNT} events in the event store")
    assert sorted(event["value"]["id"] for event in everything["events"]) == list(range(COUNT))
    assert {event["value"]["patient"]["ssn"] for event in everything["events"]} == {"[PHI]"}
    assert everything["sortable"] == ["timestamp", "value.ward"]

    seen, cursor = [], None
    while True:
        body = {"filter": {"value.ward": "ICU"}, "from": started.isoformat(), "sort": "-timestamp", "limit": 4}
        answer = query(alice, topic, {**body, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        seen += [event["value"]["id"] for event in answer.json()["events"]]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [i for i in range(COUNT) if i % 2] and len(seen) == len(set(seen))

    refused = query(alice, topic, {"filter": {"value.ward": {"$where": "sleep(1000)"},
                                              "value.patient.ssn": {"$regex": "^123"}}})
    assert refused.status_code == 400, refused.text
    assert set(refused.json()["errors"]) == {"filter.value.ward.$where", "filter.value.patient.ssn"}
    outsider = query(bob, topic, {})
    assert outsider.status_code == 403, outsider.text
