"""Connector operations a cluster's change policy gates: a request instead of the change, applied through the
same services on approval; an offsets reset asks for a stopped connector before anything else."""

import pytest

from onboarding.changes.gate import change_policy_for
from onboarding.changes.requests import change_request_approve
from onboarding.errors import ValidationError
from onboarding.models import AuditEvent, ChangeRequest, Connector
from onboarding.services.connectors import (
    connector_create,
    connector_delete,
    connector_offsets_reset,
    connector_update,
)
from tests.fixtures.eventstore import event_store_uri
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]
MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"


@pytest.fixture
def gated(cluster, alice, payments):
    cluster.connect_allowed_classes = [MONGO_SINK]
    cluster.save(update_fields=["connect_allowed_classes"])
    make_topic(alice, cluster, payments, name="payments.orders")
    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["connector.create", "connector.update", "connector.delete",
                                          "connector.offsets"]
    policy.save()
    return cluster


def declare(alice, payments, cluster):
    return connector_create(actor=alice, team=payments, cluster=cluster, name="orders-store",
                            connector_class=MONGO_SINK,
                            config={"topics": "payments.orders", "connection.uri": event_store_uri(),
                                    "database": "orders"})


def test_create_change_and_delete_wait_for_approval_then_apply(alice, payments, operator, gated):
    opened = declare(alice, payments, gated)
    assert isinstance(opened, ChangeRequest) and not Connector.objects.exists()
    assert opened.plan["steps"][0]["summary"] == "Declare connector payments.orders-store"
    applied = change_request_approve(actor=operator, change_request=opened, comment="", via="browser")
    assert applied.status == ChangeRequest.Status.APPLIED, applied.error
    connector = Connector.objects.get(name="orders-store")

    opened = connector_update(actor=alice, connector=connector, config={**connector.config, "database": "o2"})
    assert isinstance(opened, ChangeRequest) and opened.base_generation == 1
    assert change_request_approve(actor=operator, change_request=opened, via="browser").status == "applied"
    connector.refresh_from_db()
    assert connector.config["database"] == "o2"

    opened = connector_delete(actor=alice, connector=connector)
    assert isinstance(opened, ChangeRequest)
    change_request_approve(actor=operator, change_request=opened, via="browser")
    assert Connector.objects.get(pk=connector.pk).status == "deleting"


def test_an_offsets_reset_needs_a_stopped_connector_then_is_gated(alice, payments, operator, gated):
    change_request_approve(actor=operator, change_request=declare(alice, payments, gated), via="browser")
    connector = Connector.objects.get(name="orders-store")

    with pytest.raises(ValidationError) as refused:
        connector_offsets_reset(actor=alice, connector=connector)
    assert "Stop the connector first" in refused.value.messages[0]

    Connector.objects.filter(pk=connector.pk).update(desired_state="stopped", connector_state="STOPPED")
    connector.refresh_from_db()
    opened = connector_offsets_reset(actor=alice, connector=connector)
    assert isinstance(opened, ChangeRequest)
    assert opened.plan["steps"][0]["actions"] == [
        "DELETE /connectors/payments.orders-store/offsets (the connector is stopped)"]
    assert not AuditEvent.objects.filter(action="connector.offsets").exists()
