"""Teams and memberships are written by the team services, with the operator as actor."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from onboarding.models import AuditEvent, Membership, Team
from tests.integration.admin.forms import changeform_data, form_errors

pytestmark = pytest.mark.django_db


def test_a_team_added_with_a_member_goes_through_the_services(operator_client, operator, alice):
    response = operator_client.post(reverse("admin:onboarding_team_add"), {
        "slug": "logistics", "name": "Logistics", "description": "", "contacts": "logistics@example.org",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(alice.pk), "memberships-0-role": "owner"})

    assert response.status_code == 302
    team = Team.objects.get(slug="logistics")
    assert Membership.objects.get(team=team, user=alice).role == "owner"
    for action in ("team.create", "membership.set"):
        event = AuditEvent.objects.get(action=action, team=team)
        assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)


def test_a_role_change_and_a_removal_are_audited(operator_client, payments, alice, bob):
    url = reverse("admin:onboarding_team_change", args=[payments.pk])
    data = changeform_data(operator_client.get(url))
    rows = {data[f"memberships-{i}-id"]: i for i in range(int(data["memberships-TOTAL_FORMS"]))}
    alice_row = rows[str(Membership.objects.get(user=alice).pk)]
    bob_row = rows[str(Membership.objects.get(user=bob).pk)]
    data[f"memberships-{bob_row}-role"] = "viewer"
    data[f"memberships-{alice_row}-DELETE"] = "on"

    response = operator_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    assert Membership.objects.get(user=bob, team=payments).role == "viewer"
    assert not Membership.objects.filter(user=alice, team=payments).exists()
    removal = AuditEvent.objects.get(action="membership.remove")
    assert removal.before == {"user": "alice", "role": "owner"} and removal.via == AuditEvent.Via.ADMIN


def test_a_membership_added_on_its_own_page_uses_membership_set(operator_client, operator, payments):
    dora = get_user_model().objects.create_user("dora")
    response = operator_client.post(reverse("admin:onboarding_membership_add"),
                                    {"user": str(dora.pk), "team": str(payments.pk), "role": "member"})

    assert response.status_code == 302
    assert Membership.objects.get(user=dora, team=payments).role == "member"
    assert AuditEvent.objects.get(action="membership.set", after__user="dora").actor == operator
