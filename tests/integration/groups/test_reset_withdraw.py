"""Withdrawing a waiting offset reset, and who hears of a reset's steps: the service, the API, the group page and
the outbox rows. A reset's withdrawal and rejection never reach Kafka, so the resets here are rows as
``offset_reset_request`` leaves them (clinical's group over payments' topic, waiting for payments' owners); the
broker tests of ``test_offset_resets.py`` cover the request, approval and failure."""

import pytest
from django.urls import reverse

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.models import ApiToken, AuditEvent, Membership, NotificationDelivery, OffsetReset
from onboarding.services.groups import WITHDRAW_REQUESTER_ONLY, offset_reset_reject, offset_reset_withdraw
from onboarding.services.teams import membership_set
from tests.fixtures.actors import _user
from tests.integration.admin.conftest import make_topic

pytestmark = pytest.mark.django_db
GROUP = "clinical.reports"


@pytest.fixture
def orders(cluster, payments):
    return make_topic(cluster, payments)


@pytest.fixture
def mails(payments, clinical):
    """Each team's e-mail recipient, so every notification of a team is one delivery row to it."""
    for team in (payments, clinical):
        team.notification_emails = [f"{team.slug}@example.org"]
        team.save(update_fields=["notification_emails"])


@pytest.fixture
def waiting(cluster, clinical, carol, orders):
    """carol (clinical) asks to reread payments' topic with clinical's group: it waits for payments' owners."""
    return OffsetReset.objects.create(cluster=cluster, team=clinical, group_id=GROUP, topic=orders,
                                      strategy=OffsetReset.Strategy.EARLIEST, reason="rebuild the reports",
                                      requested_by=carol)


@pytest.fixture
def dora(clinical):
    """Another owner of clinical: she sees carol's reset, but it is not hers to take back."""
    user = _user("dora")
    membership_set(actor=None, team=clinical, user=user, role=Membership.Role.OWNER)
    return user


def _told(team) -> list[str]:
    return sorted(NotificationDelivery.objects.filter(team=team).values_list("event", flat=True))


def test_the_requester_withdraws_a_waiting_reset_and_both_teams_hear_of_it(
        waiting, carol, payments, clinical, mails):
    withdrawn = offset_reset_withdraw(actor=carol, reset=waiting, via="browser")

    assert withdrawn.status == OffsetReset.Status.WITHDRAWN
    assert (withdrawn.decided_by, withdrawn.applied_at) == (carol, None)
    audit = AuditEvent.objects.get(action="group.reset.withdraw", resource_id=str(waiting.pk))
    assert (audit.actor_name, audit.team, audit.before["status"], audit.after["status"]) == (
        "carol", clinical, "requested", "withdrawn")
    assert _told(payments) == _told(clinical) == ["offset_reset.withdrawn"]
    told = NotificationDelivery.objects.get(team=payments)
    assert told.payload["offset_reset"]["status"] == "withdrawn" and told.payload["offset_reset"]["group"] == GROUP
    assert "carol withdrew the reset of clinical.reports" in told.payload["description"]
    assert told.payload["offset_reset"]["url"] == reverse("onboarding:group_detail", args=["local", GROUP])


def test_only_the_requester_withdraws_and_only_while_it_waits(waiting, carol, dora, alice, bob, mails):
    with pytest.raises(PermissionDenied) as not_hers:
        offset_reset_withdraw(actor=dora, reset=waiting, via="api")  # her team's reset, not her request
    assert str(not_hers.value) == WITHDRAW_REQUESTER_ONLY
    with pytest.raises(PermissionDenied):
        offset_reset_withdraw(actor=alice, reset=waiting, via="api")  # the topic's owner decides, never withdraws
    with pytest.raises(NotFound):
        offset_reset_withdraw(actor=bob, reset=waiting, via="api")  # neither clinical's nor an owner of the topic
    waiting.refresh_from_db()
    assert waiting.status == OffsetReset.Status.REQUESTED

    offset_reset_reject(actor=alice, reset=waiting, comment="not now", via="api")
    with pytest.raises(ValidationError) as decided:
        offset_reset_withdraw(actor=carol, reset=waiting, via="api")
    assert decided.value.message_dict == {"__all__": ["Only waiting resets can be withdrawn; this one is rejected."]}
    assert not AuditEvent.objects.filter(action="group.reset.withdraw").exists()


def test_a_rejection_is_told_to_the_groups_team_only(waiting, alice, payments, clinical, mails):
    offset_reset_reject(actor=alice, reset=waiting, comment="not during the audit", via="browser")

    assert (_told(payments), _told(clinical)) == ([], ["offset_reset.rejected"])
    told = NotificationDelivery.objects.get(team=clinical).payload
    assert told["offset_reset"]["decided_by"] == "alice" and told["offset_reset"]["comment"] == "not during the audit"


def test_the_api_withdraws_for_the_requester_and_refuses_everyone_else(waiting, carol, dora, alice, api_as):
    url = f"/api/v1/offset-resets/{waiting.pk}/withdraw/"

    refused = api_as(dora).post(url, format="json")
    assert refused.status_code == 403 and WITHDRAW_REQUESTER_ONLY in refused.content.decode()
    assert api_as(alice).post(url, format="json").status_code == 403
    read_only = api_as(carol, scope=ApiToken.Scope.READ).post(url, format="json")
    assert read_only.status_code == 403
    assert not AuditEvent.objects.filter(action="group.reset.withdraw").exists()

    done = api_as(carol).post(url, format="json")
    assert done.status_code == 200 and done.json()["status"] == "withdrawn" and done.json()["decided_by"] == "carol"
    again = api_as(carol).post(url, format="json")
    assert again.status_code == 400
    assert again.json()["errors"] == {"non_field_errors": [
        "Only waiting resets can be withdrawn; this one is withdrawn."]}
    listed = api_as(carol).get("/api/v1/offset-resets/", {"status": "withdrawn"}).json()["results"]
    assert [r["id"] for r in listed] == [waiting.pk]


def test_the_group_page_offers_withdraw_to_the_requester_only_while_it_waits(waiting, carol, dora, client_for):
    page = reverse("onboarding:group_detail", args=["local", GROUP])
    button = f'data-testid="withdraw-reset-{waiting.pk}"'
    assert button in client_for(carol).get(page).content.decode()
    assert button not in client_for(dora).get(page).content.decode()

    refused = client_for(dora).post(reverse("onboarding:offset_reset_decide", args=[waiting.pk, "withdraw"]),
                                    {"next": page}, follow=True)
    assert refused.redirect_chain == [(page, 302)] and WITHDRAW_REQUESTER_ONLY in refused.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == OffsetReset.Status.REQUESTED
    done = client_for(carol).post(reverse("onboarding:offset_reset_decide", args=[waiting.pk, "withdraw"]),
                                  {"next": page}, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Location"] == page
    waiting.refresh_from_db()
    assert waiting.status == OffsetReset.Status.WITHDRAWN
    html = client_for(carol).get(page).content.decode()
    assert button not in html and "badge withdrawn" in html
