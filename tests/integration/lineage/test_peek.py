"""Peek on the real broker and registry: the last N events, decoded (Avro with a registered schema, JSON),
with tagged fields masked, for those allowed to read the topic; every peek audited."""

import json
import time

import pytest
from confluent_kafka import Producer
from django.conf import settings
from django.urls import reverse

from onboarding.models import AuditEvent, ResourceStatus, Subscription, Topic
from onboarding.reconcile.schemas import reconcile_schemas
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.routing.decode import encode_avro
from onboarding.services.clusters import cluster_create
from onboarding.services.schemas import schema_version_submit
from onboarding.services.sensitivity import sensitive_field_set
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.integration.api.conftest import subjects  # noqa: F401  (fixture)
from tests.integration.lineage.conftest import account
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db

ADMISSION = {"type": "record", "name": "Admission", "namespace": "payments.peek", "fields": [
    {"name": "id", "type": "string"},
    {"name": "patient", "type": {"type": "record", "name": "Patient", "fields": [
        {"name": "name", "type": "string"}, {"name": "ssn", "type": "string"}]}},
    {"name": "visits", "type": {"type": "array", "items": {"type": "record", "name": "Visit", "fields": [
        {"name": "code", "type": "string"}, {"name": "ward", "type": "string"}]}}},
    {"name": "contact", "type": ["null", {"type": "record", "name": "Contact", "fields": [
        {"name": "phone", "type": "string"}]}], "default": None},
]}
CARD = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
    "order": {"type": "string"}, "card": {"type": "object", "properties": {"number": {"type": "string"}}}}}


def admission(i: int) -> dict:
    return {"id": f"a{i}", "patient": {"name": f"Patient {i}", "ssn": f"000-00-{i:04d}"},
            "visits": [{"code": f"C{i}", "ward": "3"}, {"code": f"D{i}", "ward": "4"}],
            "contact": {"phone": f"+31 6 {i}"} if i % 2 else None}


def ready_topic(actor, cluster, team, name, **fields):
    topic = topic_create(actor=actor, cluster=cluster, team=team, name=name, partitions=2, replication_factor=1,
                         **fields)
    reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY, topic.last_error
    return topic


def registered(actor, topic, fmt, document, subjects_made):
    version = schema_version_submit(actor=actor, topic=topic, side="value", fmt=fmt, text=json.dumps(document))
    subjects_made.append(version.schema.subject)
    reconcile_schemas(topic.cluster_id)
    version.refresh_from_db()
    assert version.registry_id, version.schema.last_error
    return version


def produce(topic_name, values, *, headers=None):
    """Over both partitions, one millisecond apart, so "the last N" is well defined across partitions."""
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "acks": "all"})
    start = int(time.time() * 1000) - len(values)
    for i, value in enumerate(values):
        producer.produce(topic_name, key=f"k{i}".encode(), value=value, headers=headers or [], partition=i % 2,
                         timestamp=start + i)
    assert producer.flush(15) == 0


@pytest.fixture
def avro_topic(alice, cluster, payments, topic_name, subjects):  # noqa: F811
    topic = ready_topic(alice, cluster, payments, topic_name("peek"))
    version = registered(alice, topic, "AVRO", ADMISSION, subjects)
    for path, classification in (("patient.ssn", "phi"), ("visits[].code", "phi"), ("contact.phone", "pii")):
        sensitive_field_set(actor=alice, schema=version.schema, path=path, classification=classification)
    produce(topic.name, [encode_avro(version.registry_id, version.text, admission(i)) for i in range(15)],
            headers=[("trace", b"t-1")])
    return topic


def peek_api(client, topic, limit=None):
    suffix = f"?limit={limit}" if limit is not None else ""
    return client.get(f"/api/v1/topics/{topic.pk}/peek/{suffix}")


def test_the_owner_peeks_at_the_last_avro_events_with_tagged_fields_masked(api_as, alice, avro_topic, kafka_admin):
    response = peek_api(api_as(alice), avro_topic, limit=5)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["limit"] == 5 and body["masked"]["value"] == {"patient.ssn": "phi", "visits[].code": "phi",
                                                              "contact.phone": "pii"}
    values = [e["value"] for e in body["events"]]
    assert sorted(v["id"] for v in values) == [f"a{i}" for i in range(10, 15)]
    for value in values:
        i = int(value["id"][1:])
        assert value["patient"] == {"name": f"Patient {i}", "ssn": "[PHI]"}
        assert value["visits"] == [{"code": "[PHI]", "ward": "3"}, {"code": "[PHI]", "ward": "4"}]
        assert value["contact"] == ({"phone": "[PII]"} if i % 2 else None)
    assert {e["key"] for e in body["events"]} == {f"k{i}" for i in range(10, 15)}
    assert body["events"][0]["headers"] == [{"name": "trace", "value": "t-1"}]
    assert "000-00-" not in response.content.decode()
    audit = AuditEvent.objects.get(action="topic.peek")
    assert (audit.actor, audit.via, audit.resource_name, audit.after) == (alice, "api", avro_topic.name,
                                                                          {"limit": 5, "events": 5})
    groups = kafka_admin.list_consumer_groups(request_timeout=10).result().valid
    assert not [g.group_id for g in groups if g.group_id.startswith("_portal-peek-")]  # no group, no commits


def test_the_peek_section_of_the_page_shows_masked_events(client_for, vera, avro_topic):
    client = client_for(vera)  # a viewer of the team may read

    assert 'data-testid="peek"' in client.get(reverse("onboarding:topic_detail", args=[avro_topic.pk])
                                              + "?tab=events").content.decode()
    fragment = client.get(reverse("onboarding:topic_peek", args=[avro_topic.pk]) + "?limit=3",
                          **htmx_to("peek-result")).content.decode()

    assert fragment.count('data-testid="peek-value"') == 3
    assert "[PHI]" in fragment and "Patient 14" in fragment and "000-00-" not in fragment
    assert AuditEvent.objects.get(action="topic.peek").after == {"limit": 3, "events": 3}


def test_json_events_are_masked_for_a_subscriber_and_refused_to_an_outsider(api_as, alice, carol, rita, cluster,
                                                                             payments, clinical, topic_name,
                                                                             subjects):  # noqa: F811
    topic = ready_topic(alice, cluster, payments, topic_name("cards"))
    version = registered(alice, topic, "JSON", CARD, subjects)
    sensitive_field_set(actor=alice, schema=version.schema, path="card.number", classification="secret")
    produce(topic.name, [json.dumps({"order": f"o{i}", "card": {"number": "4111 1111"}}).encode() for i in range(4)])
    reader = account(cluster, clinical, "r")
    subscription_request(actor=carol, subscriber=clinical, source=topic, service_account=reader,
                         mode=Subscription.Mode.DIRECT, reason="Reconciliation", via="api")

    answer = peek_api(api_as(carol), topic)
    outsider = peek_api(api_as(rita), topic)

    assert answer.status_code == 200, answer.json()
    assert sorted(e["value"]["order"] for e in answer.json()["events"]) == ["o0", "o1", "o2", "o3"]
    assert all(e["value"]["card"] == {"number": "[SECRET]"} for e in answer.json()["events"])
    assert outsider.status_code == 403
    assert list(AuditEvent.objects.filter(action="topic.peek").values_list("actor_name", flat=True)) == ["carol"]


def test_a_private_topic_is_not_found_for_outsiders_and_the_limit_is_checked(api_as, alice, carol, cluster,
                                                                             payments, topic_name):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("private"), partitions=1,
                         replication_factor=1, visibility=Topic.Visibility.PRIVATE)

    assert peek_api(api_as(carol), topic).status_code == 404
    too_many = peek_api(api_as(alice), topic, limit=51)
    assert too_many.status_code == 400 and too_many.json()["errors"]["limit"] == ["Ask for 1 to 50 events."]
    assert not AuditEvent.objects.filter(action="topic.peek").exists()


def test_an_unreachable_broker_is_a_clear_503_and_still_audited(api_as, client_for, alice, payments, registry_url):
    down = cluster_create(actor=None, name="down", environment="dev", bootstrap_servers="127.0.0.1:1",
                          registry_url=registry_url)
    topic = topic_create(actor=alice, cluster=down, team=payments, name="payments.nowhere", partitions=1,
                         replication_factor=1)

    response = peek_api(api_as(alice), topic)
    page = client_for(alice).get(reverse("onboarding:topic_peek", args=[topic.pk]), **htmx_to("peek-result"))

    assert response.status_code == 503 and "Kafka read failed" in response.json()["detail"]
    assert page.status_code == 200 and "The events could not be read" in page.content.decode()
    assert AuditEvent.objects.filter(action="topic.peek", note__startswith="failed").count() == 2


def test_the_owning_team_sees_who_peeked_in_its_audit_trail(api_as, client_for, alice, vera, carol, cluster,
                                                            payments, clinical, topic_name):
    topic = ready_topic(alice, cluster, payments, topic_name("watched"))
    produce(topic.name, [json.dumps({"order": f"o{i}"}).encode() for i in range(3)])
    reader = account(cluster, clinical, "watcher")
    subscription_request(actor=carol, subscriber=clinical, source=topic, service_account=reader,
                         mode=Subscription.Mode.DIRECT, reason="Reconciliation", via="api")
    assert peek_api(api_as(carol), topic, limit=5).status_code == 200
    assert client_for(vera).get(reverse("onboarding:topic_peek", args=[topic.pk]) + "?limit=2",
                                **htmx_to("peek-result")).status_code == 200

    trail = api_as(alice).get("/api/v1/audit/", {"team": "payments", "event": "peek"})
    page = client_for(alice).get("/teams/payments/audit/", {"action": "topic.peek"})

    assert trail.status_code == 200, trail.content
    peeks = [{key: row[key] for key in ("object", "action", "actor", "via", "details")}
             for row in trail.json()["results"]]
    assert peeks == [
        {"object": topic.name, "action": "topic.peek", "actor": "vera", "via": "browser",
         "details": {"limit": 2, "events": 2}},
        {"object": topic.name, "action": "topic.peek", "actor": "carol", "via": "api",
         "details": {"limit": 5, "events": 3}},
    ]
    assert page.status_code == 200 and len(page.context["rows"]) == 2
    html = page.content.decode()
    assert "carol" in html and "peeked at" in html and topic.name in html
    # The subscriber's own team trail does not list the owners' topic events, and it cannot read payments'.
    assert api_as(carol).get("/api/v1/audit/", {"team": "payments"}).status_code == 404
