"""The manifest's event_store: section on Postgres: export, plan, apply through the services (with a topic the same
manifest creates), idempotence, the services' errors by manifest path, another team's topic refused, and a
manifest without the section leaving the team's bindings alone."""

import pytest
import yaml

from onboarding.errors import ValidationError
from onboarding.gitops.service import manifest_apply, manifest_export, manifest_plan
from onboarding.models import EventStoreBinding
from tests.fixtures.eventstore import event_store_uri
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def store_settings(settings):
    settings.EVENT_STORE_URI = settings.EVENT_STORE_CONNECT_URI = event_store_uri()


def exported(team) -> dict:
    return yaml.safe_load(manifest_export(team=team))


def test_apply_binds_exports_unchanged_then_changes_and_unbinds(alice, payments, cluster):
    make_topic(alice, cluster, payments, name="payments.orders")
    new_topic = {"cluster": "local", "name": "payments.refunds", "partitions": 1, "replication_factor": 1}
    document = {**exported(payments), "topics": [*exported(payments)["topics"], new_topic],
                "event_store": [{"cluster": "local", "topic": "payments.orders", "mode": "table",
                                 "indexed_fields": ["customer.id"]},
                                {"cluster": "local", "topic": "payments.refunds", "retention_days": 7}]}
    result = manifest_apply(actor=alice, team=payments, document=document)
    assert [(r["op"], r["kind"]) for r in result.results] == [
        ("create", "topic"), ("create", "event_store"), ("create", "event_store")]
    assert {(b.topic.name, b.mode, b.retention_days) for b in EventStoreBinding.objects.all()} == {
        ("payments.orders", "table", None), ("payments.refunds", "log", 7)}

    again = exported(payments)
    assert again["event_store"] == [
        {"cluster": "local", "topic": "payments.orders", "mode": "table", "indexed_fields": ["customer.id"]},
        {"cluster": "local", "topic": "payments.refunds", "mode": "log", "retention_days": 7, "indexed_fields": []}]
    plan = manifest_plan(actor=alice, team=payments, document=again).plan
    assert plan.summary()["unchanged"] == len(plan.actions)

    changed = {**again, "event_store": [{**again["event_store"][0], "indexed_fields": ["status"]},
                                        again["event_store"][1]]}
    manifest_apply(actor=alice, team=payments, document=changed)
    assert EventStoreBinding.objects.get(topic__name="payments.orders").indexed_fields == ["status"]

    without_section = {k: v for k, v in again.items() if k != "event_store"}
    assert manifest_plan(actor=alice, team=payments, document=without_section).plan.summary().get("delete", 0) == 0

    manifest_apply(actor=alice, team=payments, document={**again, "event_store": []}, allow_deletes=True)
    assert set(EventStoreBinding.objects.values_list("status", flat=True)) == {"deleting"}


def test_errors_come_back_by_manifest_path_and_nothing_is_applied(alice, payments, carol, clinical, cluster):
    make_topic(alice, cluster, payments, name="payments.orders")
    make_topic(carol, cluster, clinical, name="clinical.admissions")
    document = {**exported(payments), "event_store": [
        {"cluster": "local", "topic": "payments.orders", "retention_days": 0, "indexed_fields": ["$where"]},
        {"cluster": "local", "topic": "clinical.admissions"}]}
    with pytest.raises(ValidationError) as caught:
        manifest_apply(actor=alice, team=payments, document=document)
    errors = caught.value.message_dict
    assert "event_store[0].retention_days" in errors and "event_store[0].indexed_fields" in errors
    assert "not a topic of payments" in errors["event_store[1].topic"][0]
    assert not EventStoreBinding.objects.exists()
