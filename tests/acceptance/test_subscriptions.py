"""Service accounts and subscriptions as the teams' applications use them: produce and consume on the SASL
listener with the account the portal handed out, the settings copied from its answer."""

import json
import os

import pytest

from tests.acceptance import kafka, steps
from tests.acceptance.http import wait_for

VISIT_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                "properties": {"id": {"type": "integer"}, "ward": {"type": "string"}, "ssn": {"type": "string"}},
                "required": ["id", "ward"]}


@pytest.fixture(scope="module")
def payments_writer(as_user, run):
    """The payments team's producer account."""
    return steps.service_account(as_user("alice"), team="payments", name=f"{run}-writer")


@pytest.fixture(scope="module")
def clinical_reader(as_user, run):
    """The clinical team's consumer account, the subscriber in these journeys."""
    return steps.service_account(as_user("bob"), team="clinical", name=f"{run}-reader")


def _events(count: int) -> list[dict]:
    wards = ["ICU", "Cardiology", "Maternity"]
    return [{"id": i, "ward": wards[i % 3], "ssn": f"123-45-{i:04d}"} for i in range(count)]


def test_a_service_account_created_through_the_api_produces_to_its_teams_topic(as_user, server, run):
    alice = as_user("alice", server)
    topic = steps.topic(as_user("alice"), name=f"payments.{run}-produce-{server.name}", team="payments")
    answer = alice.post("service-accounts/", {"cluster": "local", "team": "payments",
                                              "name": f"{run}-app-{server.name[:4]}"})
    assert answer.status_code == 201, answer.text
    account = answer.json()
    assert account["password"] and account["username"] == f"payments.{run}-app-{server.name[:4]}"
    assert account["client_settings"] == {"bootstrap.servers": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"],
                                          "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
                                          "sasl.username": account["username"]}
    alice.wait_status(f"service-accounts/{account['id']}/")

    kafka.produce_json(kafka.client_config(account), topic["name"], _events(3))
    peek = wait_for(lambda: (body := alice.ok(f"topics/{topic['id']}/peek/", params={"limit": 10}))
                    and len(body["events"]) == 3 and body, timeout=30, message="the events in peek")
    assert sorted(event["value"]["id"] for event in peek["events"]) == [0, 1, 2]


def test_a_direct_subscription_is_consumed_by_the_subscribers_account(as_user, run, payments_writer, clinical_reader):
    source = steps.topic(as_user("alice"), name=f"payments.{run}-direct", team="payments", partitions=2)
    steps.subscription(as_user("bob"), subscriber="clinical", source=source, account=clinical_reader)

    events = _events(20)
    kafka.produce_json(kafka.client_config(payments_writer), source["name"], events)
    records = kafka.consume(kafka.client_config(clinical_reader), source["name"], group=f"clinical.{run}-direct",
                            expect=len(events))
    assert sorted(int(r["key"]) for r in records) == [e["id"] for e in events]


def test_a_routed_subscription_delivers_exactly_the_matching_events_once_to_the_subscriber(
        as_user, run, payments_writer, clinical_reader):
    source = steps.topic(as_user("alice"), name=f"payments.{run}-routed", team="payments", partitions=2)
    destination = f"clinical.{run}-icu"
    routed = steps.subscription(as_user("bob"), subscriber="clinical", source=source, account=clinical_reader,
                                mode="routed", destination_name=destination, filter="value.ward == 'ICU'")
    assert routed["destination_name"] == destination

    events = _events(60)
    kafka.produce_json(kafka.client_config(payments_writer), source["name"], events, transactional=True)
    reader = kafka.client_config(clinical_reader)
    records = kafka.consume(reader, destination, group=f"clinical.{run}-icu", expect=20, read_committed=True)

    wanted = [e["id"] for e in events if e["ward"] == "ICU"]
    assert sorted(int(r["key"]) for r in records) == wanted, "the wrong events, or some twice"
    assert {r["headers"]["route.subscription"] for r in records} == {str(routed["id"])}
    assert {r["headers"]["route.source.topic"] for r in records} == {source["name"]}
    # Routed, not direct: the subscriber reads its copy, never the source itself.
    refused = kafka.read_refused(reader, source["name"], group=f"clinical.{run}-peeking")
    assert refused is not None, f"{clinical_reader['username']} could read {source['name']}"


def test_a_tagged_sensitive_field_is_masked_in_peek_on_the_source_and_on_the_routed_copy(
        as_user, run, payments_writer, clinical_reader):
    alice, bob = as_user("alice"), as_user("bob")
    source = steps.topic(alice, name=f"payments.{run}-visits", team="payments")
    schema = alice.created("schemas/", {"topic": source["id"], "side": "value", "format": "JSON",
                                        "schema": json.dumps(VISIT_SCHEMA)})
    alice.wait_status(f"schemas/{schema['id']}/")
    tagged = alice.post(f"schemas/{schema['id']}/sensitive-fields/", {"path": "ssn", "classification": "phi",
                                                                       "note": "national id"})
    assert tagged.status_code == 201, tagged.text
    destination = f"clinical.{run}-visits-copy"
    routed = steps.subscription(bob, subscriber="clinical", source=source, account=clinical_reader, mode="routed",
                                destination_name=destination)

    kafka.produce_json(kafka.client_config(payments_writer), source["name"], _events(3), transactional=True)
    on_source = wait_for(lambda: (body := alice.ok(f"topics/{source['id']}/peek/")) and len(body["events"]) == 3
                         and body, timeout=30, message="the events in the source's peek")
    assert {e["value"]["ssn"] for e in on_source["events"]} == {"[PHI]"}
    assert {e["value"]["ward"] for e in on_source["events"]} == {"ICU", "Cardiology", "Maternity"}

    copy = bob.ok(f"topics/{routed['destination']}/")
    on_copy = wait_for(lambda: (body := bob.ok(f"topics/{copy['id']}/peek/")) and len(body["events"]) == 3 and body,
                       timeout=60, message="the routed copies in the destination's peek")
    assert {e["value"]["ssn"] for e in on_copy["events"]} == {"[PHI]"}, on_copy["events"]
