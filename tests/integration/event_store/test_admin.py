"""Bindings in the admin: the pages render read-only, and stopping goes through the event store service
(audited as the operator, via admin)."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, EventStoreBinding
from tests.integration.admin.conftest import operator_client as _operator_client
from tests.integration.subscriptions.helpers import make_topic

pytestmark = pytest.mark.django_db
operator_client = _operator_client


@pytest.fixture
def binding(cluster, alice, payments):
    topic = make_topic(alice, cluster, payments, name="payments.orders")
    return EventStoreBinding.objects.create(topic=topic, team=payments, mode="table", retention_days=3,
                                            indexed_fields=["customer.id"], connector_state="RUNNING")


def test_the_pages_render_and_unbinding_goes_through_the_service(operator_client, binding):
    listed = operator_client.get(reverse("admin:onboarding_eventstorebinding_changelist"))
    assert listed.status_code == 200 and listed.context["cl"].result_count == 1
    page = operator_client.get(reverse("admin:onboarding_eventstorebinding_change", args=[binding.pk]))
    assert page.status_code == 200 and b"customer.id" in page.content

    answer = operator_client.post(reverse("admin:onboarding_eventstorebinding_changelist"),
                                  {"action": "unbind", "_selected_action": [binding.pk]})
    assert answer.status_code == 302
    assert EventStoreBinding.objects.get(pk=binding.pk).status == "deleting"
    assert AuditEvent.objects.filter(action="event_store.unbind", via="admin").exists()
