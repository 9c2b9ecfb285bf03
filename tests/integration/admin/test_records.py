"""The audit trail and the attempt history are read-only, for superusers too."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(payments):
    return AuditEvent.objects.get(action="team.create", resource_name="payments")


def test_an_audit_event_cannot_be_changed(operator_client, event):
    url = reverse("admin:onboarding_auditevent_change", args=[event.pk])
    page = operator_client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]

    response = operator_client.post(url, {"action": "team.delete", "actor_name": "mallory", "via": "api"})

    assert response.status_code == 403
    event.refresh_from_db()
    assert (event.action, event.actor_name) == ("team.create", "system")


def test_an_audit_event_cannot_be_deleted_or_added(operator_client, event):
    assert operator_client.post(reverse("admin:onboarding_auditevent_delete", args=[event.pk]),
                                {"post": "yes"}).status_code == 403
    assert operator_client.get(reverse("admin:onboarding_auditevent_add")).status_code == 403
    changelist = operator_client.get(reverse("admin:onboarding_auditevent_changelist"))
    assert changelist.context["action_form"] is None  # no actions at all, so no bulk delete
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_apply_attempts_are_read_only(operator_client, db):
    assert operator_client.get(reverse("admin:onboarding_applyattempt_add")).status_code == 403
