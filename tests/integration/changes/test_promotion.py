"""Promotion from the dev cluster to the prod cluster of the stack (second broker and registry)."""

import json
import os

import pytest
import requests
from confluent_kafka.admin import AdminClient

from onboarding.changes.promotion import topic_promote
from onboarding.changes.requests import change_request_approve
from onboarding.errors import ValidationError
from onboarding.models import AuditEvent, ChangeRequest, Schema, Subscription, Topic
from onboarding.services.schemas import schema_version_submit
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.fixtures.schemas import ORDER_V1
from tests.fixtures.topics import broker_topic
from tests.fixtures.waiting import wait_for_status

VIA = AuditEvent.Via.API


@pytest.fixture
def prod_leftovers():
    """Topics and subjects a test put on the prod broker and registry; removed at the end."""
    made = {"topics": [], "subjects": []}
    yield made
    admin = AdminClient({"bootstrap.servers": os.environ["KAFKA_PROD_BOOTSTRAP_SERVERS"]})
    existing = set(admin.list_topics(timeout=10).topics) & set(made["topics"])
    for future in (admin.delete_topics(list(existing), operation_timeout=30).values() if existing else []):
        future.result(30)
    registry = os.environ["SCHEMA_REGISTRY_PROD_URL"]
    for subject in made["subjects"]:
        requests.delete(f"{registry}/subjects/{subject}", timeout=10)
        requests.delete(f"{registry}/subjects/{subject}", params={"permanent": "true"}, timeout=10)


@pytest.fixture
def dev_topic(cluster, payments, alice, topic_name, registry_subjects):
    """A dev topic with an Avro value schema and a 7-day retention."""
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("promo"), partitions=2,
                         replication_factor=1, configs={"retention.ms": 604_800_000}, description="Orders",
                         tags=["billing"], via=VIA)
    registry_subjects.append(f"{topic.name}-value")
    schema_version_submit(actor=alice, topic=topic, side="value", fmt="AVRO", text=json.dumps(ORDER_V1),
                          compatibility="FULL", via=VIA)
    return topic


def _subscribe(topic, team, owner, cluster, account_name):
    sa, _ = service_account_create(actor=owner, cluster=cluster, team=team, name=account_name, via=VIA)
    return subscription_request(actor=owner, subscriber=team, source=topic, service_account=sa, mode="direct",
                                reason="reports", via=VIA)


@pytest.mark.django_db(transaction=True)
def test_a_promotion_to_prod_waits_for_approval_then_lands_on_the_prod_broker_and_registry(
        celery_worker, cluster, prod_cluster, payments, clinical, alice, otto, carol, gated, dev_topic,
        prod_leftovers):
    prod_leftovers["topics"].append(dev_topic.name)
    prod_leftovers["subjects"].append(f"{dev_topic.name}-value")
    kept = _subscribe(dev_topic, clinical, carol, cluster, "reader")
    skipped = _subscribe(dev_topic, clinical, carol, cluster, "adhoc")
    service_account_create(actor=carol, cluster=prod_cluster, team=clinical, name="reader", via=VIA)
    gated(prod_cluster, "topic.create")

    cr = topic_promote(actor=alice, topic=dev_topic, via=VIA, overrides={"partitions": 3})

    assert cr.status == "pending" and cr.cluster == prod_cluster
    assert cr.operations == ["topic.create", "schema.submit", "subscription.promote"]
    assert cr.plan["steps"][0]["actions"] == [
        "create topic with 3 partitions, replication factor 1, retention.ms=604800000"]
    assert [s["subscription"] for s in cr.plan["skipped"]] == [skipped.pk]
    assert not Topic.objects.filter(cluster=prod_cluster).exists()

    cr = change_request_approve(actor=otto, change_request=cr, comment="release 42", via=VIA)

    assert cr.status == "applied", cr.error
    promoted = Topic.objects.get(cluster=prod_cluster, name=dev_topic.name)
    assert (promoted.description, promoted.tags, promoted.partitions) == ("Orders", ["billing"], 3)
    wait_for_status(promoted, "ready")
    prod_admin = AdminClient({"bootstrap.servers": os.environ["KAFKA_PROD_BOOTSTRAP_SERVERS"]})
    assert broker_topic(prod_admin, dev_topic.name) == (3, {"retention.ms": "604800000"})
    schema = wait_for_status(Schema.objects.get(topic=promoted, side="value"), "ready")
    assert schema.compatibility == "FULL"
    registry = os.environ["SCHEMA_REGISTRY_PROD_URL"]
    registered = requests.get(f"{registry}/subjects/{dev_topic.name}-value/versions/latest", timeout=10).json()
    assert json.loads(registered["schema"])["name"] == "Order"
    sub = Subscription.objects.get(source=promoted)
    assert (sub.subscriber, sub.decision, sub.service_account.cluster) == (clinical, "approved", prod_cluster)
    assert sub.pk != kept.pk


@pytest.mark.django_db(transaction=True)
def test_a_promotion_that_the_target_does_not_gate_is_applied_at_once_and_an_unchanged_second_one_is_refused(
        celery_worker, cluster, prod_cluster, alice, dev_topic, prod_leftovers):
    prod_leftovers["topics"].append(dev_topic.name)
    prod_leftovers["subjects"].append(f"{dev_topic.name}-value")

    cr = topic_promote(actor=alice, topic=dev_topic, via=VIA)

    assert cr.status == ChangeRequest.Status.APPLIED and cr.decided_by is None
    wait_for_status(Topic.objects.get(cluster=prod_cluster, name=dev_topic.name), "ready")
    wait_for_status(Schema.objects.get(topic__cluster=prod_cluster, topic__name=dev_topic.name), "ready")
    with pytest.raises(ValidationError) as refused:
        topic_promote(actor=alice, topic=dev_topic, via=VIA)
    assert "there is nothing to promote" in refused.value.message_dict["__all__"][0]
