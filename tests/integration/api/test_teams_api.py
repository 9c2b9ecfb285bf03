"""Onboarding teams by automation: operators create teams, owners change them and manage their members,
through the same services (and words) as the admin and the pages; every write is audited."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from onboarding.models import AuditEvent, Membership, Team
from onboarding.services.tokens import team_token_create
from tests.fixtures.actors import _user
from tests.integration.history.conftest import login

pytestmark = pytest.mark.django_db

TEAMS = "/api/v1/teams/"


def members_url(team, username: str | None = None) -> str:
    return f"{TEAMS}{team.pk}/members/" + (f"{username}/" if username else "")


def test_an_operator_creates_a_team_with_contacts_and_recipients(api_as, operator):
    answer = api_as(operator).post(TEAMS, {"slug": "claims", "name": "Claims", "description": "Insurance claims",
                                           "contacts": "#claims", "notification_emails": ["Ops@Example.org"]},
                                   format="json")

    assert answer.status_code == 201, answer.content
    team = Team.objects.get(slug="claims")
    assert answer["Location"].endswith(f"{TEAMS}{team.pk}/")
    assert answer.json()["notification_emails"] == ["ops@example.org"] and answer.json()["members"] == []
    record = AuditEvent.objects.get(action="team.create", resource_id=str(team.pk))
    assert (record.actor_name, record.via) == ("olivia", "api")


def test_team_errors_are_by_field_with_the_admins_words(api_as, operator, payments):
    answer = api_as(operator).post(TEAMS, {"slug": "Payments Team", "name": "", "notification_emails": ["nope"]},
                                   format="json")
    taken = api_as(operator).post(TEAMS, {"slug": "payments", "name": "Again"}, format="json")
    missing = api_as(operator).post(TEAMS, {}, format="json")

    errors = answer.json()["errors"]
    assert answer.status_code == 400
    assert "Use lowercase letters, digits and '-', starting with a letter." in errors["slug"]
    assert errors["name"] == ["This field cannot be blank."]
    assert errors["notification_emails"] == ["'nope' is not a valid e-mail address."]
    admin_form = site._registry[Team].get_form(_admin_request(operator))(data={"slug": "payments", "name": "Again"})
    assert not admin_form.is_valid()
    assert taken.status_code == 400 and taken.json()["errors"]["slug"] == admin_form.errors["slug"]
    assert set(missing.json()["errors"]) == {"slug", "name"}
    assert Team.objects.count() == 1 and not AuditEvent.objects.filter(action="team.create", via="api").exists()


def _admin_request(user):
    request = RequestFactory().get("/admin/onboarding/team/add/")
    request.user = user
    return request


def test_only_operators_create_teams(api_as, alice):
    answer = api_as(alice).post(TEAMS, {"slug": "claims", "name": "Claims"}, format="json")
    assert answer.status_code == 403 and answer.json()["detail"] == "Only platform operators create teams."
    assert not Team.objects.filter(slug="claims").exists()


def test_owners_change_their_team_and_others_may_not(api_as, alice, bob, carol, payments):
    assert api_as(alice).patch(f"{TEAMS}{payments.pk}/", {"description": "Card payments"},
                               format="json").json()["description"] == "Card payments"
    assert api_as(bob).patch(f"{TEAMS}{payments.pk}/", {"name": "Mine"}, format="json").status_code == 403
    assert api_as(carol).patch(f"{TEAMS}{payments.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert Team.objects.get(pk=payments.pk).name == "Payments"


def test_owners_add_change_and_remove_members(api_as, alice, payments):
    robin = _user("robin")
    client = api_as(alice)

    added = client.post(members_url(payments), {"username": "robin", "role": "viewer"}, format="json")
    changed = client.patch(members_url(payments, "robin"), {"role": "member"}, format="json")
    listed = client.get(members_url(payments)).json()
    removed = client.delete(members_url(payments, "robin"))

    assert added.status_code == 201 and added.json() == {"username": "robin", "role": "viewer", "source": "manual"}
    assert added["Location"] == members_url(payments, "robin")
    assert changed.status_code == 200 and changed.json()["role"] == "member"
    assert {"username": "robin", "role": "member", "source": "manual"} in listed
    assert removed.status_code == 204 and not Membership.objects.filter(user=robin).exists()
    actions = list(AuditEvent.objects.filter(resource_type="membership", via="api").order_by("id")
                   .values_list("action", "actor_name"))
    assert actions == [("membership.set", "alice"), ("membership.set", "alice"), ("membership.remove", "alice")]


def test_member_errors_are_field_level_with_the_pages_words(api_as, alice, payments):
    client = api_as(alice)

    unknown = client.post(members_url(payments), {"username": "nobody", "role": "member"}, format="json")
    bad_role = client.post(members_url(payments), {"username": "alice", "role": "boss"}, format="json")
    demote_last = client.patch(members_url(payments, "alice"), {"role": "member"}, format="json")
    remove_last = client.delete(members_url(payments, "alice"))
    not_member = client.patch(members_url(payments, "nobody"), {"role": "member"}, format="json")

    assert unknown.status_code == 400 and unknown.json()["errors"] == {
        "username": ["There is no active account named 'nobody'."]}
    assert bad_role.json()["errors"] == {"role": ["Select a valid choice. boss is not one of the available choices."]}
    last = "payments must keep at least one owner: make someone else an owner before alice stops being one."
    assert demote_last.status_code == 400 and demote_last.json()["errors"] == {"role": [last]}
    assert remove_last.status_code == 400 and remove_last.json()["errors"] == {"non_field_errors": [last]}
    assert not_member.status_code == 404
    assert Membership.objects.get(team=payments, user=alice).role == "owner"


def test_the_pages_refuse_an_unknown_person_with_the_same_words(client, alice, payments):
    page = login(client, alice).post("/teams/payments/members/", {"username": "nobody", "role": "member"})
    assert "There is no active account named &#x27;nobody&#x27;." in page.content.decode()


def test_a_teams_automation_account_is_refused_on_username(api_as, alice, payments):
    team_token_create(actor=alice, team=payments, name="ci", scope="read", via="api")

    answer = api_as(alice).post(members_url(payments), {"username": "payments-automation", "role": "owner"},
                                format="json")

    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["username"]


def test_members_and_viewers_read_members_but_do_not_manage_them(api_as, bob, vera, carol, payments):
    _user("robin")
    assert api_as(vera).get(members_url(payments)).status_code == 200
    assert api_as(bob).post(members_url(payments), {"username": "robin", "role": "viewer"},
                            format="json").status_code == 403
    assert api_as(vera).delete(members_url(payments, "bob")).status_code == 403
    assert api_as(carol).get(members_url(payments)).status_code == 404
    assert api_as(carol).post(members_url(payments), {"username": "robin", "role": "viewer"},
                              format="json").status_code == 404
