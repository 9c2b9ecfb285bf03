"""A second promotion brings the prod topic up to date (configs, partitions that only grow, metadata, new schema
versions), shown as a change-request plan before anything is applied."""

import json
import os

import pytest
import requests
from confluent_kafka.admin import AdminClient

from onboarding.changes.promotion import topic_promote
from onboarding.changes.requests import change_request_approve
from onboarding.errors import ValidationError
from onboarding.models import ChangeRequest, Schema, Topic
from onboarding.services.schemas import schema_version_submit
from onboarding.services.topics import topic_create, topic_update
from tests.fixtures.schemas import ORDER_V2
from tests.fixtures.topics import broker_topic
from tests.fixtures.waiting import wait_for, wait_for_status
from tests.integration.admin.conftest import make_topic
from tests.integration.changes.test_promotion import VIA, dev_topic, prod_leftovers  # noqa: F401  (fixtures)


@pytest.mark.django_db(transaction=True)
def test_a_second_promotion_updates_prod_after_showing_its_plan(
        celery_worker, cluster, prod_cluster, payments, alice, otto, gated, dev_topic, prod_leftovers):  # noqa: F811
    name = dev_topic.name
    prod_leftovers["topics"].append(name)
    prod_leftovers["subjects"].append(f"{name}-value")
    assert topic_promote(actor=alice, topic=dev_topic, via=VIA).status == ChangeRequest.Status.APPLIED
    prod_topic = wait_for_status(Topic.objects.get(cluster=prod_cluster, name=name), "ready")
    wait_for_status(Schema.objects.get(topic=prod_topic), "ready")
    dev_topic = topic_update(actor=alice, topic=dev_topic, partitions=4, configs={"retention.ms": "86400000"},
                             description="Orders, with currency")
    schema_version_submit(actor=alice, topic=dev_topic, side="value", fmt="AVRO", text=json.dumps(ORDER_V2), via=VIA)
    gated(prod_cluster, "topic.update", "schema.submit")

    cr = topic_promote(actor=alice, topic=dev_topic, via=VIA)

    assert cr.status == ChangeRequest.Status.PENDING and cr.cluster == prod_cluster
    assert (cr.target_type, cr.target_id, cr.base_generation) == ("topic", str(prod_topic.pk), prod_topic.generation)
    assert cr.operations == ["topic.update", "schema.submit"]
    update, new_version = cr.plan["steps"]
    assert update["actions"] == ["set retention.ms=86400000", "increase partitions to 4"]
    assert update["details"]["config_diff"] == {"retention.ms": ["604800000", "86400000"]}
    assert update["details"]["partitions_diff"] == [2, 4]
    assert "description: 'Orders' -> 'Orders, with currency'" in update["details"]["portal_changes"]
    assert new_version["actions"][0] == f"register version 2 of {name}-value (AVRO)"
    assert any("currency" in change for change in new_version["details"]["changes"])
    prod_topic.refresh_from_db()
    assert (prod_topic.partitions, prod_topic.generation) == (2, cr.base_generation)  # nothing applied yet

    cr = change_request_approve(actor=otto, change_request=cr, comment="release 43", via=VIA)

    assert cr.status == ChangeRequest.Status.APPLIED, cr.error
    prod_topic = wait_for_status(prod_topic, "ready")
    assert (prod_topic.partitions, prod_topic.description) == (4, "Orders, with currency")
    prod_admin = AdminClient({"bootstrap.servers": os.environ["KAFKA_PROD_BOOTSTRAP_SERVERS"]})
    assert broker_topic(prod_admin, name) == (4, {"retention.ms": "86400000"})
    wait_for_status(Schema.objects.get(topic=prod_topic), "ready")
    registry = os.environ["SCHEMA_REGISTRY_PROD_URL"]
    latest = wait_for(lambda: (lambda v: v if v.get("version") == 2 else None)(requests.get(
        f"{registry}/subjects/{name}-value/versions/latest", timeout=10).json()), message="version 2 in prod")
    assert any(f["name"] == "currency" for f in json.loads(latest["schema"])["fields"])

    with pytest.raises(ValidationError) as refused:
        topic_promote(actor=alice, topic=dev_topic, via=VIA)
    assert "nothing to promote" in refused.value.message_dict["__all__"][0]


@pytest.mark.django_db
def test_partitions_never_shrink_and_the_plan_says_so(cluster, prod_cluster, payments, alice, gated):
    dev = topic_create(actor=alice, cluster=cluster, team=payments, name="payments.grow-only", partitions=2,
                       replication_factor=1, configs={"retention.ms": "604800000"}, description="Orders")
    make_topic(prod_cluster, payments, name=dev.name, partitions=6, description="Old text")
    gated(prod_cluster, "topic.update")

    cr = topic_promote(actor=alice, topic=dev, via=VIA)

    [change] = cr.changes
    assert change["operation"] == "topic.update" and "partitions" not in change["payload"]
    assert change["payload"]["description"] == "Orders"
    assert cr.plan["kept"] == [f"partitions: 6 on {prod_cluster.name}, 2 asked; partitions never shrink"]
