"""Team tokens in the admin: shown with their team and maker, revocable; their automation account's
membership cannot be edited by hand."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, Membership, Team
from onboarding.services.tokens import team_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_token(alice, payments):
    token, _ = team_token_create(actor=alice, team=payments, name="deploys", scope="write", via=AuditEvent.Via.BROWSER)
    return token


def test_the_list_shows_the_team_and_who_made_it_and_revokes_it(operator_client, team_token):
    page = operator_client.get(reverse("admin:onboarding_apitoken_changelist"))
    assert b"payments-automation" in page.content and b"alice" in page.content
    assert team_token.key_hash.encode() not in page.content

    operator_client.post(reverse("admin:onboarding_apitoken_changelist"),
                         {"action": "revoke", "_selected_action": [team_token.pk]})

    team_token.refresh_from_db()
    assert team_token.revoked_at is not None
    assert AuditEvent.objects.get(action="apitoken.revoke").team_id == team_token.team_id


def test_the_automation_accounts_role_is_not_changed_in_the_admin(operator_client, team_token, payments):
    bot = Team.objects.get(pk=payments.pk).automation_user
    membership = Membership.objects.get(user=bot)

    answer = operator_client.post(reverse("admin:onboarding_membership_change", args=[membership.pk]),
                                  {"role": "owner"})

    assert answer.status_code == 200
    assert b"automation account" in answer.content
    assert Membership.objects.get(pk=membership.pk).role == Membership.Role.MEMBER
