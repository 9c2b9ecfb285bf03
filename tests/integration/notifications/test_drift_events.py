"""Schema drift is a resource.drifted event too, recorded once when the schema becomes drifted."""

import pytest

from onboarding.models import NotificationDelivery, ResourceStatus
from onboarding.notifications.webhooks import webhook_create
from onboarding.reconcile.schemas_drift import check_schema_drift
from tests.fixtures.schemas import ORDER_V1, apply_now

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_schema_changed_in_the_registry_is_notified_once(make_schema, registry, alice, payments):
    hook, _ = webhook_create(actor=alice, team=payments, name="drift", url="https://hooks.example.org/x",
                             events=["resource.drifted"])
    schema = apply_now(make_schema(ORDER_V1))
    assert schema.status == ResourceStatus.READY, schema.last_error
    registry.set_level(schema.subject, "NONE")

    check_schema_drift(schema.topic.cluster_id)
    check_schema_drift(schema.topic.cluster_id)  # still drifted, waiting for a decision: nothing new

    [delivery] = NotificationDelivery.objects.filter(team=payments)
    assert (delivery.webhook, delivery.event) == (hook, "resource.drifted")
    assert delivery.payload["resource"] == {"type": "schema", "id": schema.pk, "name": schema.subject}
    assert delivery.payload["drift"] == {"compatibility": {"desired": "BACKWARD", "observed": "NONE"}}
    assert delivery.subject == f"Drift on local: schema {schema.subject} changed outside the portal"
