"""Token pages and team member pages: secrets shown once, owners only, outsiders see nothing."""

import pytest

from onboarding.models import ApiToken, AuditEvent, Membership

pytestmark = pytest.mark.django_db


def test_a_personal_token_is_shown_once_on_a_no_store_page_then_only_its_prefix(client_for, alice):
    client = client_for(alice)

    created = client.post("/tokens/", {"name": "laptop", "scope": "read", "expires_in_days": "7"})

    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    token = ApiToken.objects.get(user=alice)
    plain = created.context["plain"]
    assert plain.startswith(f"pep_{token.key_id}_") and plain.encode() in created.content
    again = client.get("/tokens/")
    assert token.display_prefix.encode() in again.content
    assert plain.split("_", 2)[2].encode() not in again.content
    assert (token.scope, token.team, token.created_by) == ("read", None, alice)


def test_the_service_refuses_a_too_long_lifetime_beside_the_field(client_for, alice, settings):
    settings.TOKEN_MAX_DAYS = 10

    answer = client_for(alice).post("/tokens/", {"name": "long", "scope": "read", "expires_in_days": "11"})

    assert answer.status_code == 400
    assert answer.context["form"].errors["expires_in_days"][0].startswith("Tokens live at most 10 days")
    assert not ApiToken.objects.exists()


def test_an_owner_creates_a_team_token_a_member_is_refused_and_an_outsider_sees_no_team(client_for, alice, bob,
                                                                                        carol, payments):
    assert client_for(carol).get("/teams/payments/tokens/").status_code == 404
    assert client_for(carol).post("/teams/payments/tokens/", {"name": "x", "scope": "write"}).status_code == 404
    assert client_for(bob).get("/teams/payments/tokens/").status_code == 403
    assert client_for(bob).post("/teams/payments/tokens/", {"name": "x", "scope": "write"}).status_code == 403
    assert not ApiToken.objects.exists()

    created = client_for(alice).post("/teams/payments/tokens/", {"name": "deploys", "scope": "write"})

    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    token = ApiToken.objects.get()
    assert (token.team, token.user.username, token.created_by) == (payments, "payments-automation", alice)
    listed = client_for(alice).get("/teams/payments/tokens/")
    assert token.display_prefix.encode() in listed.content and b"alice" in listed.content


def test_revoking_from_the_page_and_nobody_else_can(client_for, alice, bob):
    token, _ = ApiToken.new(user=alice, name="old")

    assert client_for(bob).post(f"/tokens/{token.pk}/revoke/").status_code == 404
    answer = client_for(alice).post(f"/tokens/{token.pk}/revoke/")

    assert answer.status_code == 302 and answer["Location"] == "/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.get(action="apitoken.revoke").via == AuditEvent.Via.BROWSER


def test_an_owner_adds_changes_and_removes_members(client_for, alice, bob, vera, carol, payments):
    client = client_for(alice)

    added = client.post("/teams/payments/members/", {"username": "carol", "role": "viewer"})
    changed = client.post(f"/teams/payments/members/{Membership.objects.get(user=bob).pk}/role/", {"role": "owner"})
    removed = client.post(f"/teams/payments/members/{Membership.objects.get(user=vera).pk}/remove/")

    assert [a.status_code for a in (added, changed, removed)] == [302, 302, 302]
    roles = dict(Membership.objects.filter(team=payments).values_list("user__username", "role"))
    assert roles == {"alice": "owner", "bob": "owner", "carol": "viewer"}
    page = client.get("/teams/payments/members/")
    assert b"Add a person" in page.content and b"data-testid=\"member-carol\"" in page.content


def test_the_last_owner_is_protected_with_the_services_message(client_for, alice, payments):
    own = Membership.objects.get(user=alice)

    demoted = client_for(alice).post(f"/teams/payments/members/{own.pk}/role/", {"role": "member"})
    removed = client_for(alice).post(f"/teams/payments/members/{own.pk}/remove/")

    for answer in (demoted, removed):
        assert answer.status_code == 400
        assert b"payments must keep at least one owner" in answer.content
    assert Membership.objects.get(pk=own.pk).role == "owner"


def test_an_unknown_username_is_an_error_beside_the_field(client_for, alice):
    answer = client_for(alice).post("/teams/payments/members/", {"username": "mallory", "role": "member"})

    assert answer.status_code == 400
    assert answer.context["form"].errors["username"] == ["There is no active account named 'mallory'."]


def test_members_see_the_list_without_controls_and_outsiders_see_nothing(client_for, alice, bob, carol):
    page = client_for(bob).get("/teams/payments/members/")

    assert page.status_code == 200 and b"alice" in page.content and b"Add a person" not in page.content
    assert client_for(bob).post("/teams/payments/members/", {"username": "carol", "role": "owner"}).status_code == 403
    alices = Membership.objects.get(user=alice).pk
    assert client_for(bob).post(f"/teams/payments/members/{alices}/remove/").status_code == 403
    assert client_for(carol).get("/teams/payments/members/").status_code == 404
    assert client_for(carol).get("/teams/payments/").status_code == 404
    assert client_for(carol).post(f"/teams/payments/members/{alices}/remove/").status_code == 404
    assert Membership.objects.filter(user=alice).exists()


def test_the_team_list_and_page_show_the_users_teams(client_for, alice, carol):
    listed = client_for(alice).get("/teams/")
    page = client_for(alice).get("/teams/payments/")

    assert b"payments" in listed.content and b"clinical" not in listed.content
    assert b"/teams/payments/tokens/" in page.content and b"/teams/payments/members/" in page.content
