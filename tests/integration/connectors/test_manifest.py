"""Connectors in the team manifest on Postgres and the real Connect worker (validate): export, plan, apply through
the services, idempotence, Connect's errors by manifest path, and a manifest without the section leaving the
team's connectors alone."""

import pytest
import yaml

from onboarding.errors import ValidationError
from onboarding.gitops.service import manifest_apply, manifest_export, manifest_plan
from onboarding.models import Connector
from tests.fixtures.eventstore import event_store_uri
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]
MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"


@pytest.fixture
def topic(cluster, alice, payments):
    cluster.connect_allowed_classes = [MONGO_SINK]
    cluster.save(update_fields=["connect_allowed_classes"])
    return make_topic(alice, cluster, payments, name="payments.orders")


def entry(**overrides) -> dict:
    values = {"cluster": "local", "name": "orders-store", "connector_class": MONGO_SINK,
              "config": {"topics": "payments.orders", "connection.uri": event_store_uri(), "database": "orders",
                         "tasks.max": 1},
              "secret_refs": {"mongo.password": "env:MONGO_PASSWORD"}}
    values.update(overrides)
    return values


def exported(team) -> dict:
    return yaml.safe_load(manifest_export(team=team))


def test_apply_creates_exports_unchanged_then_changes_and_deletes(alice, payments, topic):
    document = {**exported(payments), "connectors": [entry()]}
    result = manifest_apply(actor=alice, team=payments, document=document)
    assert [(r["op"], r["kind"]) for r in result.results] == [("create", "connector")]
    connector = Connector.objects.get()
    assert connector.secret_refs == {"mongo.password": "env:MONGO_PASSWORD"}

    again = exported(payments)
    assert again["connectors"] == [{**entry(), "description": "", "desired_state": "running"}]
    plan = manifest_plan(actor=alice, team=payments, document=again).plan
    assert plan.summary()["unchanged"] == len(plan.actions)

    paused = {**again, "connectors": [{**again["connectors"][0], "desired_state": "paused"}]}
    manifest_apply(actor=alice, team=payments, document=paused)
    assert Connector.objects.get().desired_state == "paused"

    manifest_apply(actor=alice, team=payments, document={**again, "connectors": []}, allow_deletes=True)
    assert Connector.objects.get().status == "deleting"


def test_connects_errors_come_back_by_manifest_path_and_nothing_is_applied(alice, payments, topic):
    document = {**exported(payments), "connectors": [entry(config={**entry()["config"], "tasks.max": "several"})]}
    with pytest.raises(ValidationError) as caught:
        manifest_plan(actor=alice, team=payments, document=document)
    errors = caught.value.message_dict
    assert list(errors) == ["connectors[0].config.tasks.max"]
    assert "several" in errors["connectors[0].config.tasks.max"][0]
    assert not Connector.objects.exists()


def test_a_manifest_without_the_section_keeps_the_teams_connectors(alice, payments, topic):
    manifest_apply(actor=alice, team=payments, document={**exported(payments), "connectors": [entry()]})
    document = exported(payments)
    del document["connectors"]
    plan = manifest_plan(actor=alice, team=payments, document=document).plan
    assert not [a for a in plan.actions if a.kind == "connector"]
