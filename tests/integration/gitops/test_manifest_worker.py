"""Applying a team manifest on the real stack: the worker makes the result true on the broker and the registry,
a second apply changes nothing, and export -> delete -> apply -> export gives back the same manifest."""

import pytest
import yaml

from onboarding.gitops.service import manifest_apply, manifest_export, manifest_plan
from onboarding.models import AuditEvent, Schema, ServiceAccount, Subscription, Topic
from onboarding.services.service_accounts import service_account_delete
from onboarding.services.subscriptions import subscription_revoke
from onboarding.services.topics import topic_delete
from tests.fixtures.topics import broker_topic
from tests.fixtures.waiting import wait_for, wait_for_status
from tests.integration.gitops.conftest import ORDER, counts

pytestmark = pytest.mark.django_db(transaction=True)


def settled(row, *statuses):
    row = wait_for_status(row, *statuses, "failed", timeout=90)
    assert row.status in statuses, f"{row}: {row.last_error}"
    return row


def all_settled(team, *statuses):
    for model, field in ((Topic, "team"), (ServiceAccount, "team"), (Subscription, "subscriber")):
        for row in model.objects.filter(**{field: team}).exclude(status="deleted"):
            settled(row, *statuses)
    for schema in Schema.objects.filter(topic__team=team).exclude(status="deleted"):
        settled(schema, *statuses)


def test_an_applied_manifest_becomes_real_and_a_second_apply_changes_nothing(
        alice, payments, cluster, names, clinical_source, subjects, kafka_admin, account_cleanup, celery_worker):
    orders, audit = names.topic("orders"), names.topic("audit")
    account = names.account()
    subjects.extend([f"{orders}-value", f"{orders}-key"])
    text = f"""apiVersion: portal/v1
kind: TeamManifest
team: payments
service_accounts:
- {{cluster: local, name: {account}, description: Billing consumers}}
topics:
- cluster: local
  name: {orders}
  partitions: 3
  replication_factor: 1
  configs: {{retention.ms: 3600000, cleanup.policy: delete}}
  schemas:
    value: {{format: AVRO, compatibility: BACKWARD, schema: '{ORDER}'}}
- {{cluster: local, name: {audit}, partitions: 1, replication_factor: 1}}
subscriptions:
- {{cluster: local, source: {clinical_source.name}, service_account: {account}, reason: Billing needs visits}}
"""
    result = manifest_apply(actor=alice, team=payments, text=text, via="api")

    assert result.plan.summary() == {"create": 5, "update": 0, "delete": 0, "unchanged": 0}
    assert [r["kind"] for r in result.results] == ["service_account", "topic", "topic", "schema", "subscription"]
    assert result.results[0]["password"]  # shown once, in the answer only
    all_settled(payments, "ready")
    assert broker_topic(kafka_admin, orders) == (3, {"retention.ms": "3600000", "cleanup.policy": "delete"})
    assert broker_topic(kafka_admin, audit)[0] == 1
    assert Subscription.objects.get(subscriber=payments).decision == "approved"

    before = counts()
    audit_rows = AuditEvent.objects.count()
    again = manifest_apply(actor=alice, team=payments, text=text, via="api")

    assert again.plan.summary() == {"create": 0, "update": 0, "delete": 0, "unchanged": 5}
    assert again.results == [] and AuditEvent.objects.count() == audit_rows
    assert counts() == before


def test_export_delete_everything_apply_the_export_gives_the_same_manifest(
        alice, resources, kafka_admin, account_cleanup, celery_worker):
    team = resources.topic.team
    all_settled(team, "ready")
    exported = manifest_export(team=team)

    subscription_revoke(actor=alice, subscription=resources.subscription, via="api")
    topic_delete(actor=alice, topic=resources.topic, confirm_name=resources.topic.name, delete_schemas=True,
                 via="api")
    service_account_delete(actor=alice, sa=resources.account, via="api")
    for row in (resources.subscription, resources.topic, resources.schema, resources.account):
        settled(row, "deleted")
    wait_for(lambda: broker_topic(kafka_admin, resources.topic.name) is None, message="the topic gone from the broker")
    emptied = yaml.safe_load(manifest_export(team=team))
    assert (emptied["topics"], emptied["service_accounts"], emptied["subscriptions"]) == ([], [], [])

    result = manifest_apply(actor=alice, team=team, text=exported, via="api")

    assert result.plan.summary()["create"] == 4
    all_settled(team, "ready")
    assert broker_topic(kafka_admin, resources.topic.name)[0] == 2
    assert manifest_export(team=team) == exported
    assert not manifest_plan(actor=alice, team=team, text=exported).plan.changes_anything


def test_a_new_schema_text_and_mode_in_the_manifest_reach_the_registry(alice, resources, registry_http, registry_url,
                                                                       account_cleanup, celery_worker):
    team = resources.topic.team
    settled(resources.schema, "ready")
    document = yaml.safe_load(manifest_export(team=team))
    v2 = ORDER.replace('"type": "long"}', '"type": "long"}, {"name": "currency", "type": "string", "default": "EUR"}')
    document["topics"][0]["schemas"]["value"].update(schema=v2, compatibility="FULL")

    result = manifest_apply(actor=alice, team=team, document=document, via="api")

    [action] = [a for a in result.plan.as_list() if a["op"] == "update"]
    assert set(action["changes"]) == {"schema", "compatibility"}
    schema = settled(resources.schema, "ready")
    assert (schema.compatibility, schema.versions.count()) == ("FULL", 2)
    subject = f"{registry_url}/subjects/{resources.topic.name}-value"
    assert registry_http.get(f"{subject}/versions", timeout=10).json() == [1, 2]
    assert registry_http.get(f"{registry_url}/config/{resources.topic.name}-value",
                             timeout=10).json()["compatibilityLevel"] == "FULL"
    assert yaml.safe_load(manifest_export(team=team))["topics"][0]["schemas"]["value"]["schema"] == v2
    assert not manifest_plan(actor=alice, team=team, document=document).plan.changes_anything
