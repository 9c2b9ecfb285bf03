"""A change request its requester takes back is withdrawn, its own outcome: not a rejection in the lists, the API's
filter, the pages or the team's notifications; and the migration that turns the requests stored as rejected by
their requester into withdrawn ones (and back). The requests are rows as the gate leaves them: withdrawing never
reaches Kafka."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from onboarding.changes.requests import change_request_withdraw
from onboarding.errors import PermissionDenied
from onboarding.models import AuditEvent, ChangeRequest, NotificationDelivery

pytestmark = pytest.mark.django_db
migration = import_module("onboarding.migrations.0027_withdrawn_outcomes")
Status = ChangeRequest.Status


@pytest.fixture
def open_request(cluster, payments, alice):
    """alice's waiting request (as ``change_request_open`` leaves it), her team told by e-mail."""
    payments.notification_emails = ["payments@example.org"]
    payments.save(update_fields=["notification_emails"])
    return _request(cluster, payments, alice)


def _request(cluster, team, requester, **fields) -> ChangeRequest:
    return ChangeRequest.objects.create(
        cluster=cluster, team=team, title="Create payments.refunds", requested_by=requester, requested_via="api",
        changes=[{"operation": "topic.create", "payload": {"name": "payments.refunds"}}],
        expires_at=timezone.now() + timedelta(hours=1), **fields)


def test_a_withdrawn_request_is_withdrawn_not_rejected_and_the_team_hears_of_it(open_request, alice, otto):
    with pytest.raises(PermissionDenied):
        change_request_withdraw(actor=otto, change_request=open_request, via="api")

    cr = change_request_withdraw(actor=alice, change_request=open_request, via="browser")

    assert (cr.status, cr.get_status_display(), cr.decided_by, cr.decision_comment) == (
        Status.WITHDRAWN, "Withdrawn by the requester", alice, "")
    audit = AuditEvent.objects.get(action="change_request.withdraw")
    assert (audit.before["status"], audit.after["status"]) == ("pending", "withdrawn")
    told = NotificationDelivery.objects.get(team=cr.team)
    assert told.event == "change_request.withdrawn" and told.payload["change_request"]["status"] == "withdrawn"


def test_the_api_withdraws_and_filters_withdrawn_apart_from_rejected(cluster, payments, open_request, alice, otto,
                                                                      api_as):
    rejected = _request(cluster, payments, alice, status=Status.REJECTED, decided_by=otto)
    url = f"/api/v1/change-requests/{open_request.pk}/withdraw/"
    assert api_as(otto).post(url).status_code == 403
    done = api_as(alice).post(url)
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    assert api_as(alice).post(url).json()["errors"] == {
        "non_field_errors": ["Only waiting requests can be withdrawn; this one is withdrawn."]}

    def listed(status):
        return [row["id"] for row in api_as(otto).get("/api/v1/change-requests/", {"status": status}).json()["results"]]

    assert (listed("withdrawn"), listed("rejected")) == ([open_request.pk], [rejected.pk])
    unknown = api_as(otto).get("/api/v1/change-requests/", {"status": "taken-back"})
    assert unknown.status_code == 400 and "withdrawn" in unknown.json()["errors"]["status"][0]


def test_the_pages_label_a_withdrawn_request_as_such(open_request, alice, client_for):
    change_request_withdraw(actor=alice, change_request=open_request, via="browser")

    listing = client_for(alice).get(reverse("onboarding:change_requests")).content.decode()
    assert '<span class="badge withdrawn">Withdrawn by the requester</span>' in listing
    detail = client_for(alice).get(reverse("onboarding:change_request_detail", args=[open_request.pk])).content
    assert b'data-testid="cr-status">Withdrawn by the requester<' in detail


def test_the_migration_turns_requests_rejected_by_their_requester_into_withdrawn_and_back(
        cluster, payments, alice, otto):
    comment = migration.WITHDRAWN_COMMENT
    taken_back = _request(cluster, payments, alice, status=Status.REJECTED, decided_by=alice,
                          decision_comment=comment)
    same_words = _request(cluster, payments, alice, status=Status.REJECTED, decided_by=otto,
                          decision_comment=comment)  # an approver's rejection, whatever it says
    refused = _request(cluster, payments, alice, status=Status.REJECTED, decided_by=otto, decision_comment="No.")
    waiting = _request(cluster, payments, alice)

    def states():
        return {cr.pk: (cr.status, cr.decision_comment) for cr in ChangeRequest.objects.all()}

    migration.withdrawn_from_rejected(apps, None)
    assert states() == {taken_back.pk: ("withdrawn", ""), same_words.pk: ("rejected", comment),
                        refused.pk: ("rejected", "No."), waiting.pk: ("pending", "")}

    migration.rejected_from_withdrawn(apps, None)
    assert states() == {taken_back.pk: ("rejected", comment), same_words.pk: ("rejected", comment),
                        refused.pk: ("rejected", "No."), waiting.pk: ("pending", "")}
