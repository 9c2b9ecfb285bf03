"""Importing topics that exist on the real broker but not in the portal."""

import uuid

import pytest
from confluent_kafka.admin import NewTopic
from django.urls import reverse

from onboarding.models import AuditEvent, Cluster, ResourceStatus, Topic
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def legacy_topic(kafka_admin):
    """A topic someone created on the broker directly, before the portal existed."""
    name = f"legacy.{uuid.uuid4().hex[:8]}"
    kafka_admin.create_topics([NewTopic(name, num_partitions=4, replication_factor=1,
                                        config={"retention.ms": "7200000"})])[name].result(30)
    wait_for(lambda: name in kafka_admin.list_topics(timeout=10).topics, timeout=30, message=f"{name} in metadata")
    yield name
    kafka_admin.delete_topics([name], operation_timeout=30)[name].result(30)


def _url(cluster):
    return reverse("admin:onboarding_cluster_import_topics", args=[cluster.pk])


def test_the_page_lists_a_topic_only_the_broker_knows(operator_client, cluster, legacy_topic):
    response = operator_client.get(_url(cluster))

    assert response.status_code == 200
    listed = {topic.name: topic for topic in response.context["topics"]}
    assert listed[legacy_topic].partitions == 4
    assert f'value="{legacy_topic}"'.encode() in response.content


def test_importing_makes_the_topic_the_chosen_teams_with_its_observed_shape(
        operator_client, operator, cluster, payments, legacy_topic):
    response = operator_client.post(_url(cluster), {"team": str(payments.pk), "names": [legacy_topic]})

    assert response.status_code == 302
    topic = Topic.objects.get(cluster=cluster, name=legacy_topic)
    assert (topic.team, topic.partitions, topic.replication_factor) == (payments, 4, 1)
    assert topic.configs["retention.ms"] == "7200000"
    assert topic.status == ResourceStatus.PENDING
    event = AuditEvent.objects.get(action="topic.import", resource_id=str(topic.pk))
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)
    # Once managed, it is no longer offered for import.
    assert legacy_topic not in {t.name for t in operator_client.get(_url(cluster)).context["topics"]}


def test_a_submission_without_topics_is_refused_on_the_form(operator_client, cluster, payments):
    response = operator_client.post(_url(cluster), {"team": str(payments.pk)})

    assert response.status_code == 200
    assert response.context["form"].errors["names"]
    assert not Topic.objects.exists()


def test_a_broker_that_is_down_is_reported_on_the_page_not_as_an_error_page(operator_client, db):
    down = Cluster.objects.create(name="down", environment="dev", bootstrap_servers="127.0.0.1:1")

    response = operator_client.get(_url(down))  # waits for the adapter's timeout (15 s)

    assert response.status_code == 200
    assert "Kafka metadata request failed" in response.context["problem"]


def test_a_secret_the_portal_cannot_resolve_is_reported_on_the_page(operator_client, db):
    unreachable = Cluster.objects.create(
        name="prod", environment="prod", bootstrap_servers="kafka.prod.invalid:9092",
        security_protocol=Cluster.SecurityProtocol.SASL_SSL, sasl_mechanism="SCRAM-SHA-512",
        sasl_username_ref="env:PORTAL_TEST_UNSET_USER", sasl_password_ref="env:PORTAL_TEST_UNSET_PASSWORD")

    response = operator_client.get(_url(unreachable))

    assert response.status_code == 200
    assert "PORTAL_TEST_UNSET_USER" in response.context["problem"]
    assert b'data-testid="import-problem"' in response.content


def test_the_topic_changelist_links_to_the_import(operator_client, cluster):
    response = operator_client.get(reverse("admin:onboarding_topic_changelist"))
    assert _url(cluster).encode() in response.content
