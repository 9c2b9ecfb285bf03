"""Sensitive fields on the gateway's consume side, as a team uses it: a field its owner tags in the portal's API
is replaced by its classification in the events the team reads through the gateway (pages and Server-Sent
Events) within seconds, with no step of its own (tagging queues the access run that tells the gateways), and
shows again once untagged. HTTP only: the portal's API and the gateway's."""

import json
import uuid

import pytest

from tests.acceptance import steps
from tests.acceptance.gateway_rest import team_gateway
from tests.acceptance.http import wait_for

ADMISSION_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {
    "id": {"type": "integer"},
    "patient": {"type": "object", "properties": {"name": {"type": "string"}, "ssn": {"type": "string"}}},
    "ward": {"type": "string"}}, "required": ["id", "patient"]}


@pytest.fixture(scope="module")
def gateway(as_user, stack, run):
    return team_gateway(as_user("alice"), stack.gateway_url, team="payments", name=f"{run} masking")


def _admissions(count: int) -> list[dict]:
    return [{"id": i, "patient": {"name": f"Patient {i}", "ssn": f"123-45-{i:04d}"}, "ward": "ICU"}
            for i in range(count)]


def test_a_field_tagged_in_the_portal_is_masked_on_consume_until_it_is_untagged(as_user, run, gateway):
    alice = as_user("alice")
    topic = steps.topic(alice, name=f"payments.{run}-masked", team="payments")
    schema = alice.created("schemas/", {"topic": topic["id"], "side": "value", "format": "JSON",
                                        "schema": json.dumps(ADMISSION_SCHEMA)})
    alice.wait_status(f"schemas/{schema['id']}/")
    published = gateway.produce_batch(topic["name"], [
        {"id": str(i), "value": {"type": "JSONSCHEMA", "data": event}} for i, event in enumerate(_admissions(3))])
    assert published.status_code == 207 and not published.json()["failures"], published.text

    def patients() -> list[dict] | None:
        """Every event's patient, read from the beginning by a fresh group (None until all three are there)."""
        answer = gateway.events(topic["name"], f"{run}-masking-{uuid.uuid4().hex[:6]}", max_events=10, wait_ms=2000)
        assert answer.status_code == 200, answer.text
        events = answer.json()["events"]
        assert all(e["value"]["type"] == "JSONSCHEMA" for e in events), events
        return [e["value"]["data"]["patient"] for e in events] if len(events) == 3 else None

    before = wait_for(patients, timeout=30, message="the three events through the gateway")
    assert sorted(p["ssn"] for p in before) == ["123-45-0000", "123-45-0001", "123-45-0002"]

    tagged = alice.post(f"schemas/{schema['id']}/sensitive-fields/", {"path": "patient.ssn", "classification": "phi",
                                                                       "note": "national id"})
    assert tagged.status_code == 201, tagged.text

    masked = wait_for(lambda: (found := patients()) and all(p["ssn"] == "[PHI]" for p in found) and found,
                      timeout=60, message="the gateway to mask patient.ssn")
    assert sorted(p["name"] for p in masked) == ["Patient 0", "Patient 1", "Patient 2"]  # untagged: as sent
    streamed = gateway.sse(topic["name"], f"{run}-masking-sse", 3)
    assert [event["value"]["data"]["patient"]["ssn"] for _, event in streamed] == ["[PHI]"] * 3

    untagged = alice.delete(f"schemas/{schema['id']}/sensitive-fields/?path=patient.ssn")
    assert untagged.status_code == 204, untagged.text

    wait_for(lambda: (found := patients()) and all(p["ssn"].startswith("123-45-") for p in found),
             timeout=60, message="the gateway to show patient.ssn again")
