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
        "memberships-0-user": str(alice.pk), "memberships-0-role": "owner",
        "quotas-TOTAL_FORMS": "0", "quotas-INITIAL_FORMS": "0"})

    assert response.status_code == 302
    team = Team.objects.get(slug="logistics")
    assert Membership.objects.get(team=team, user=alice).role == "owner"
    for action in ("team.create", "membership.set"):
        event = AuditEvent.objects.get(action=action, team=team)
        assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)


def _membership_rows(client, team):
    url = reverse("admin:onboarding_team_change", args=[team.pk])
    data = changeform_data(client.get(url))
    rows = {data[f"memberships-{i}-id"]: i for i in range(int(data["memberships-TOTAL_FORMS"]))}
    return url, data, {m.user.username: rows[str(m.pk)] for m in Membership.objects.filter(team=team)}


def test_a_role_change_and_a_removal_are_audited(operator_client, payments, alice, bob, vera):
    url, data, row = _membership_rows(operator_client, payments)
    data[f"memberships-{row['vera']}-role"] = "member"
    data[f"memberships-{row['bob']}-role"] = "owner"  # the team keeps an owner when alice leaves
    data[f"memberships-{row['alice']}-DELETE"] = "on"

    response = operator_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    roles = dict(Membership.objects.filter(team=payments).values_list("user__username", "role"))
    assert roles == {"bob": "owner", "vera": "member"}
    removal = AuditEvent.objects.get(action="membership.remove")
    assert removal.before == {"user": "alice", "role": "owner"} and removal.via == AuditEvent.Via.ADMIN
    assert AuditEvent.objects.filter(action="membership.set", via=AuditEvent.Via.ADMIN).count() == 2


def test_removing_and_demoting_every_owner_is_refused_on_the_form(operator_client, payments, alice, bob):
    url, data, row = _membership_rows(operator_client, payments)
    data[f"memberships-{row['bob']}-role"] = "viewer"
    data[f"memberships-{row['alice']}-DELETE"] = "on"

    response = operator_client.post(url, data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == ["payments must keep at least one owner: make someone else an owner before "
                                         "alice stops being one."]
    roles = dict(Membership.objects.filter(team=payments).values_list("user__username", "role"))
    assert roles == {"alice": "owner", "bob": "member"}
    assert not AuditEvent.objects.filter(via=AuditEvent.Via.ADMIN).exists()


def test_the_last_owner_cannot_be_deleted_or_demoted_on_the_membership_pages(operator_client, payments, alice):
    membership = Membership.objects.get(user=alice, team=payments)
    change = reverse("admin:onboarding_membership_change", args=[membership.pk])

    demoted = operator_client.post(change, {"role": "member"})
    deleted = operator_client.post(reverse("admin:onboarding_membership_delete", args=[membership.pk]),
                                   {"post": "yes"}, follow=True)
    removed = operator_client.post(reverse("admin:onboarding_membership_changelist"),
                                   {"action": "remove_selected", "_selected_action": [membership.pk]}, follow=True)

    assert demoted.status_code == 200
    assert "must keep at least one owner" in demoted.context["adminform"].form.errors["role"][0]
    for response in (deleted, removed):
        assert response.status_code == 200
        assert any("must keep at least one owner" in str(m) for m in response.context["messages"])
    assert Membership.objects.get(pk=membership.pk).role == "owner"
    assert not AuditEvent.objects.filter(via=AuditEvent.Via.ADMIN).exists()


def test_the_remove_action_removes_members_through_the_service(operator_client, operator, payments, alice, bob):
    membership = Membership.objects.get(user=bob, team=payments)

    response = operator_client.post(reverse("admin:onboarding_membership_changelist"),
                                    {"action": "remove_selected", "_selected_action": [membership.pk]}, follow=True)

    assert any("Removed 1 membership" in str(m) for m in response.context["messages"])
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(action="membership.remove")
    assert (event.actor, event.before) == (operator, {"user": "bob", "role": "member"})


def test_a_team_edit_goes_through_team_update(operator_client, operator, payments):
    url = reverse("admin:onboarding_team_change", args=[payments.pk])
    data = {**changeform_data(operator_client.get(url)), "contacts": "#payments-oncall"}

    response = operator_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    payments.refresh_from_db()
    assert payments.contacts == "#payments-oncall"
    event = AuditEvent.objects.get(action="team.update")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)
    assert (event.before, event.after) == ({"contacts": "payments@example.org"}, {"contacts": "#payments-oncall"})


def test_a_membership_added_on_its_own_page_uses_membership_set(operator_client, operator, payments):
    dora = get_user_model().objects.create_user("dora")
    response = operator_client.post(reverse("admin:onboarding_membership_add"),
                                    {"user": str(dora.pk), "team": str(payments.pk), "role": "member"})

    assert response.status_code == 302
    assert Membership.objects.get(user=dora, team=payments).role == "member"
    assert AuditEvent.objects.get(action="membership.set", after__user="dora").actor == operator
