"""Masking on consume, end to end on the real broker, registry and database: a field tagged in the portal (through
its service, as a user tags it) reaches the gateway through the access run's grants table, and the gateway's
consume (pages and SSE) replaces it by its classification; a grant that may read the topic in clear sees it;
untagging unmasks after one access run; a routed copy gets its source's masks."""

import dataclasses
import json
import uuid
from types import SimpleNamespace

import pytest
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings
from django.db import transaction

from onboarding import queue
from onboarding.gateway.grants import TopicMasks
from onboarding.models import ResourceStatus, Schema, SensitiveField, Subscription, Topic
from onboarding.platform.compacted import COMPACTED, read_compacted, write_compacted
from onboarding.platform.connection import default_kafka_connection
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.gateway import masked_topics
from onboarding.services.sensitivity import sensitive_field_clear, sensitive_field_set
from onboarding.services.service_accounts import service_account_create
from onboarding.services.tokens import team_token_create
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for
from tests.integration.api.conftest import subjects  # noqa: F401  (fixture)
from tests.integration.gateway.conftest import Team, running_gateway
from tests.integration.lineage.test_peek import ADMISSION, admission, ready_topic, registered

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def grants_topic(settings, make_topic):
    """A grants table of this test's own (the access run writes it, the test's gateway follows it)."""
    settings.GATEWAY_GRANTS_TOPIC = make_topic(f"_portal.gateway-grants-test-{uuid.uuid4().hex[:8]}",
                                               config=COMPACTED)
    return settings.GATEWAY_GRANTS_TOPIC


@pytest.fixture
def tagged_world(alice, cluster, payments, topic_name, subjects, grants_topic):  # noqa: F811
    """A payments topic with an Avro value schema and a team token made in the portal, the grants table made by
    one access run, and a gateway following it."""
    topic = ready_topic(alice, cluster, payments, topic_name("gw-mask"))
    version = registered(alice, topic, "AVRO", ADMISSION, subjects)
    token, plain = team_token_create(actor=alice, team=payments, name=f"gw {uuid.uuid4().hex[:6]}", scope="write",
                                     via="api")
    report = reconcile_access(cluster.pk)
    assert report.retry_in is None, report.errors
    with running_gateway(grants_topic) as gateway:
        world = SimpleNamespace(topic=topic.name, schema=version.schema, gateway=gateway,
                                headers={"Authorization": f"Bearer {plain}"})
        publish(world, [admission(i) for i in range(3)])
        yield world


def end_offset(topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": "unused"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        consumer.close()


def url(world, tail: str = "events") -> str:
    return f"/v3/clusters/{world.gateway.cluster_id}/topics/{world.topic}/{tail}"


def publish(world, values: list[dict]) -> None:
    response = world.gateway.post(url(world, "records:batch"), headers=world.headers, json={"entries": [
        {"id": str(n), "key": {"type": "STRING", "data": value["id"]}, "value": {"type": "AVRO", "data": value}}
        for n, value in enumerate(values)]})
    assert response.status_code == 207 and not response.json()["failures"], response.text


def patients(world, headers: dict | None = None) -> list[dict]:
    """The ``patient`` of every event from the beginning (a fresh group each time, nothing committed)."""
    response = world.gateway.get(url(world), headers=headers or world.headers,
                                 params={"group": f"mask-{uuid.uuid4().hex[:6]}", "max": 100, "wait_ms": 2000})
    assert response.status_code == 200, response.text
    events = response.json()["events"]
    assert events and all(e["value"]["type"] == "AVRO" for e in events), events
    return [event["value"]["data"]["patient"] for event in events]


def test_a_field_tagged_in_the_portal_is_masked_on_consume_and_unmasked_once_untagged(tagged_world, alice,
                                                                                      cluster):
    world = tagged_world
    assert all(p["ssn"].startswith("000-00-") for p in patients(world))  # nothing tagged yet

    sensitive_field_set(actor=alice, schema=world.schema, path="patient.ssn", classification="phi", via="api")
    reconcile_access(cluster.pk)

    wait_for(lambda: all(p["ssn"] == "[PHI]" for p in patients(world)), timeout=30,
             message="the gateway to mask patient.ssn")
    assert all(p["name"].startswith("Patient ") for p in patients(world))  # untagged fields stay
    rows = read_compacted(default_kafka_connection(), settings.GATEWAY_GRANTS_TOPIC, timeout=20)
    assert TopicMasks.decode(rows[f"topic:{world.topic}"]).value == {"patient.ssn": "phi"}
    end = end_offset(settings.GATEWAY_GRANTS_TOPIC)
    reconcile_access(cluster.pk)
    assert end_offset(settings.GATEWAY_GRANTS_TOPIC) == end  # the same tags: the row is not written again

    sensitive_field_clear(actor=alice, schema=world.schema, path="patient.ssn", via="api")
    reconcile_access(cluster.pk)

    wait_for(lambda: all(p["ssn"].startswith("000-00-") for p in patients(world)), timeout=30,
             message="the gateway to show patient.ssn again")
    rows = read_compacted(default_kafka_connection(), settings.GATEWAY_GRANTS_TOPIC, timeout=20)
    assert f"topic:{world.topic}" not in rows  # tombstoned


def test_a_grant_that_may_read_the_topic_in_clear_sees_the_tagged_field(tagged_world, alice, cluster):
    world = tagged_world
    sensitive_field_set(actor=alice, schema=world.schema, path="patient.ssn", classification="phi", via="api")
    reconcile_access(cluster.pk)
    # The portal names no topic in clear for anyone (peek masks for every viewer); the table's format lets a
    # grant name one, and the gateway honours it.
    reader = Team("payments")
    reader.grant = dataclasses.replace(reader.grant, clear_topics=(world.topic,))
    written = write_compacted(default_kafka_connection(), settings.GATEWAY_GRANTS_TOPIC,
                              {reader.grant.key: reader.grant.encode()})
    assert written == {reader.grant.key: None}

    wait_for(lambda: all(p["ssn"] == "[PHI]" for p in patients(world)), timeout=30,
             message="the portal's token to read masked")
    wait_for(lambda: all(p["ssn"].startswith("000-00-") for p in patients(world, reader.headers)), timeout=30,
             message="the grant with the topic in clear to read it unmasked")


def test_an_open_stream_masks_from_the_next_event_once_the_field_is_tagged(tagged_world, alice, cluster):
    world = tagged_world
    seen: list[dict] = []
    with world.gateway.stream("GET", url(world, "events:stream"), headers=world.headers,
                              params={"group": f"sse-{uuid.uuid4().hex[:6]}"}) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        for line in lines:
            if line.startswith("data:"):
                seen.append(json.loads(line.removeprefix("data:"))["value"]["data"]["patient"])
                if len(seen) == 3:
                    break
        assert all(p["ssn"].startswith("000-00-") for p in seen)

        sensitive_field_set(actor=alice, schema=world.schema, path="patient.ssn", classification="phi", via="api")
        reconcile_access(cluster.pk)
        wait_for(lambda: all(p["ssn"] == "[PHI]" for p in patients(world)), timeout=30,
                 message="the gateway to read the new mask")
        publish(world, [admission(7)])

        following = next(json.loads(line.removeprefix("data:")) for line in lines if line.startswith("data:"))
        assert following["value"]["data"]["patient"] == {"name": "Patient 7", "ssn": "[PHI]"}


def test_tagging_a_field_queues_an_access_run_of_the_topics_cluster(alice, cluster, payments, topic_name,
                                                                     subjects, django_capture_on_commit_callbacks):  # noqa: F811
    # The gateway learns of a tag only from the access run's table: without this trigger it would wait for the
    # next sweep. The runs are read from the callbacks the services leave for the commit, inside a transaction
    # rolled back at the end: a Celery worker of the session would otherwise take a queued run (and its mark)
    # before the test could look.
    topic = ready_topic(alice, cluster, payments, topic_name("gw-trigger"))
    version = registered(alice, topic, "AVRO", ADMISSION, subjects)

    with transaction.atomic():
        with django_capture_on_commit_callbacks() as tagged:
            sensitive_field_set(actor=alice, schema=version.schema, path="patient.ssn", classification="phi",
                                via="api")
        transaction.set_rollback(True)
    sensitive_field_set(actor=alice, schema=version.schema, path="patient.ssn", classification="phi", via="api")
    with transaction.atomic():
        with django_capture_on_commit_callbacks() as untagged:
            sensitive_field_clear(actor=alice, schema=version.schema, path="patient.ssn", via="api")
        transaction.set_rollback(True)

    assert (queue.Kind.ACCESS, cluster.pk) in _runs_queued(tagged), "tagging queued no access run"
    assert (queue.Kind.ACCESS, cluster.pk) in _runs_queued(untagged), "untagging queued no access run"


def _runs_queued(callbacks) -> set:
    """(kind, cluster id) of each run the captured on-commit callbacks would queue (queue.run_soon's closures)."""
    runs = set()
    for callback in callbacks:
        cells = dict(zip(callback.__code__.co_freevars, [c.cell_contents for c in callback.__closure__ or ()],
                         strict=True))
        runs.add((cells.get("kind"), cells.get("cluster_id")))
    return runs


def test_a_routed_copy_is_masked_like_its_source_and_a_deleted_topic_has_no_masks(alice, carol, cluster, payments,
                                                                                   clinical):
    def topic(actor, team, stem):
        return topic_create(actor=actor, cluster=cluster, team=team, name=f"{team.slug}.{stem}-{uuid.uuid4().hex[:6]}",
                            partitions=1, replication_factor=1)

    source, routed_copy = topic(alice, payments, "cards"), topic(carol, clinical, "cards-copy")
    schema = Schema.objects.create(topic=source, side="value", format="JSON")
    SensitiveField.objects.create(schema=schema, path="card.number", classification="secret")
    Subscription.objects.create(subscriber=clinical, source=source, mode=Subscription.Mode.ROUTED,
                                destination=routed_copy, reason="r", decision=Subscription.Decision.APPROVED,
                                service_account=service_account_create(actor=carol, cluster=cluster, team=clinical,
                                                                       name=f"c-{uuid.uuid4().hex[:6]}")[0])

    masked = masked_topics(cluster.pk)

    assert masked[routed_copy.name]["value"] == masked[source.name]["value"] == {"card.number": "secret"}
    Topic.objects.filter(pk=source.pk).update(status=ResourceStatus.DELETED)
    assert source.name not in masked_topics(cluster.pk) and routed_copy.name in masked_topics(cluster.pk)
