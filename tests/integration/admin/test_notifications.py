"""Operators edit webhooks and a team's e-mail recipients through the services; the delivery log is read-only."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, NotificationDelivery, Webhook
from onboarding.notifications.webhooks import webhook_create
from onboarding.outbox import notify
from tests.integration.admin.forms import changeform_data, form_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(alice, payments):
    return webhook_create(actor=alice, team=payments, name="ci", url="https://a.example.org/",
                          events=["resource.drifted"])[0]


def test_an_operator_changes_a_webhook_through_the_service(operator_client, operator, hook):
    url = reverse("admin:onboarding_webhook_change", args=[hook.pk])
    data = changeform_data(operator_client.get(url))
    data.update(url="https://b.example.org/hook", events=["change_request.failed", "resource.drifted"])

    assert operator_client.post(url, data).status_code == 302

    hook.refresh_from_db()
    assert hook.url == "https://b.example.org/hook"
    assert hook.events == ["change_request.failed", "resource.drifted"]
    event = AuditEvent.objects.get(action="webhook.update")
    assert (event.via, event.actor, event.after["url"]) == (AuditEvent.Via.ADMIN, operator, hook.url)


def test_a_bad_url_is_shown_next_to_the_field_with_the_services_text(operator_client, hook):
    url = reverse("admin:onboarding_webhook_change", args=[hook.pk])
    data = {**changeform_data(operator_client.get(url)), "url": "ftp://x.example.org/"}

    response = operator_client.post(url, data)

    assert response.status_code == 200
    assert form_errors(response)["url"] == ["Enter an http or https URL, e.g. https://hooks.example.org/portal."]
    hook.refresh_from_db()
    assert hook.url == "https://a.example.org/"


def test_an_operator_deletes_a_webhook_through_the_service(operator_client, hook):
    response = operator_client.post(reverse("admin:onboarding_webhook_delete", args=[hook.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Webhook.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.delete", via=AuditEvent.Via.ADMIN).exists()


def test_the_delivery_log_is_read_only_and_webhooks_are_added_in_the_portal(operator_client, hook, payments):
    notify(event="resource.drifted", team=payments, subject="Drift", payload={})
    delivery = NotificationDelivery.objects.get()

    assert operator_client.get(reverse("admin:onboarding_notificationdelivery_changelist")).status_code == 200
    page = operator_client.get(reverse("admin:onboarding_notificationdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert operator_client.get(reverse("admin:onboarding_webhook_add")).status_code == 403


def test_an_operator_sets_a_teams_email_recipients_through_the_service(operator_client, operator, payments, alice):
    url = reverse("admin:onboarding_team_change", args=[payments.pk])
    data = {**changeform_data(operator_client.get(url)), "notification_emails": "ops@example.org,lead@example.org"}

    assert operator_client.post(url, data).status_code == 302

    payments.refresh_from_db()
    assert payments.notification_emails == ["ops@example.org", "lead@example.org"]
    event = AuditEvent.objects.get(action="team.notification_emails")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)
