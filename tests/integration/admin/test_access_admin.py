"""Service accounts and subscriptions in the admin: read-only pages, decisions through the services."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, ServiceAccount, Subscription, Topic
from onboarding.services.subscriptions import subscription_request
from tests.integration.admin.conftest import make_topic

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:onboarding_subscription_changelist")


@pytest.fixture
def waiting(cluster, clinical, payments, alice):
    source = make_topic(cluster, clinical, name="clinical.vitals", visibility=Topic.Visibility.PUBLIC,
                        subscriptions_need_approval=True)
    account = ServiceAccount.objects.create(cluster=cluster, team=payments, name="reader", username="payments.reader")
    return subscription_request(actor=alice, subscriber=payments, source=source, service_account=account,
                                mode="direct", reason="Billing", via="browser")


def test_pages_render_without_the_secret(operator_client, waiting):
    account = waiting.service_account
    for url in (reverse("admin:onboarding_serviceaccount_changelist"), CHANGELIST,
                reverse("admin:onboarding_serviceaccount_change", args=[account.pk]),
                reverse("admin:onboarding_subscription_change", args=[waiting.pk]),
                CHANGELIST + "?decision__exact=requested&mode__exact=direct&q=vitals"):
        response = operator_client.get(url)
        assert response.status_code == 200, url
        assert b"pending_secret" not in response.content
    assert operator_client.get(reverse("admin:onboarding_serviceaccount_add")).status_code == 403


def test_approve_action_goes_through_the_service(operator_client, operator, waiting):
    response = operator_client.post(CHANGELIST, {"action": "approve", "_selected_action": [waiting.pk]}, follow=True)

    waiting.refresh_from_db()
    assert (waiting.decision, waiting.decided_by) == (Subscription.Decision.APPROVED, operator)
    assert "Approved 1 subscription(s)." in response.content.decode()
    assert AuditEvent.objects.get(action="subscription.approve").via == AuditEvent.Via.ADMIN

    again = operator_client.post(CHANGELIST, {"action": "reject", "_selected_action": [waiting.pk]}, follow=True)
    assert "Only waiting requests can be decided; this one is approved." in again.content.decode()
