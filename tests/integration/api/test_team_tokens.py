"""Team tokens on the API: they act as the team's automation account, are named in audit records,
obey their scope, say why they stopped working, and are counted for throttling one by one."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from onboarding.errors import ValidationError
from onboarding.models import ApiToken, AuditEvent, Membership, Team, Topic
from onboarding.services.teams import membership_remove, membership_set
from onboarding.services.tokens import team_token_create, token_create, token_revoke
from tests.fixtures.actors import PASSWORD
from tests.integration.api.conftest import TOPICS, new_name

pytestmark = pytest.mark.django_db
TOKENS = "/api/v1/tokens/"
VIA = AuditEvent.Via.BROWSER


def bearer(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def session(user) -> APIClient:
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def new_topic(client: APIClient):
    return client.post(TOPICS, {"cluster": "local", "team": "payments", "name": new_name(), "partitions": 1,
                                "replication_factor": 1}, format="json")


def test_a_team_token_creates_a_topic_and_the_audit_record_names_the_token(alice, cluster, payments):
    token, plain = team_token_create(actor=alice, team=payments, name="payments CI", scope="write", via=VIA)

    answer = new_topic(bearer(plain))

    assert answer.status_code == 201, answer.content
    event = AuditEvent.objects.get(action="topic.create", resource_id=str(answer.json()["id"]))
    assert event.actor_name == f"payments-automation (token pep_{token.key_id})"
    assert event.actor.username == "payments-automation" and event.via == AuditEvent.Via.API
    assert (token.user.username, token.created_by, token.team) == ("payments-automation", alice, payments)


def test_the_automation_account_is_a_member_that_cannot_log_in_and_outlives_its_creator(alice, cluster, payments):
    _, plain = team_token_create(actor=alice, team=payments, name="ci", scope="write", via=VIA)
    bot = Team.objects.get(pk=payments.pk).automation_user

    assert Membership.objects.get(user=bot, team=payments).role == Membership.Role.MEMBER
    assert not bot.has_usable_password()
    alice.is_active = False  # the person who made the token leaves the company
    alice.save()
    assert new_topic(bearer(plain)).status_code == 201


def test_a_read_scope_team_token_is_refused_on_post_with_a_clear_403(alice, cluster, payments):
    _, plain = team_token_create(actor=alice, team=payments, name="dashboards", scope="read", via=VIA)
    client = bearer(plain)

    assert client.get(TOPICS).status_code == 200
    answer = new_topic(client)

    assert answer.status_code == 403
    assert answer.json() == {"detail": "This token has the read scope: it cannot change anything. "
                                       "Use a token with the write scope."}
    assert not Topic.objects.exists()


def test_a_revoked_team_token_is_401_and_says_when_it_was_revoked(alice, payments):
    token, plain = team_token_create(actor=alice, team=payments, name="old", scope="write", via=VIA)
    token_revoke(actor=alice, token=token, via=VIA)
    token.refresh_from_db()

    answer = bearer(plain).get(TOPICS)

    assert answer.status_code == 401
    assert answer.json()["detail"] == (f"This token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC; "
                                       "create a new one.")


def test_an_expired_team_token_is_401_and_says_when_it_expired(alice, payments):
    token, plain = team_token_create(actor=alice, team=payments, name="short", scope="write", via=VIA)
    ended = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=ended)

    answer = bearer(plain).get(TOPICS)

    assert answer.status_code == 401
    assert answer.json()["detail"] == f"This token expired on {ended:%Y-%m-%d %H:%M} UTC; create a new one."


def test_the_secret_is_in_the_create_answer_only_and_only_its_hash_is_stored(alice, payments):
    answer = session(alice).post(TOKENS, {"name": "deploys", "scope": "write", "team": "payments"}, format="json")

    assert answer.status_code == 201, answer.content
    plain = answer.json()["token"]
    token = ApiToken.objects.get(pk=answer.json()["id"])
    secret = plain.split("_", 2)[2]
    assert token.key_hash == ApiToken.hash(secret)
    with connection.cursor() as cursor:  # the secret appears in no column of the table
        cursor.execute("SELECT * FROM onboarding_apitoken")
        assert not any(secret in str(value) for row in cursor.fetchall() for value in row)
    assert secret not in str(list(AuditEvent.objects.values_list("before", "after")))
    listed = session(alice).get(TOKENS).json()["results"]
    assert [(t["prefix"], t["team"], t["acts_as"]) for t in listed] == [
        (f"pep_{token.key_id}", "payments", "payments-automation")]
    assert "token" not in listed[0] and secret not in str(session(alice).get(answer["Location"]).content)


def test_a_member_cannot_create_team_tokens_and_an_outsider_cannot_even_name_the_team(bob, carol, payments):
    refused = session(bob).post(TOKENS, {"name": "mine", "scope": "write", "team": "payments"}, format="json")
    hidden = session(carol).post(TOKENS, {"name": "mine", "scope": "write", "team": "payments"}, format="json")

    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only the team's owners or platform operators create its tokens."
    assert hidden.status_code == 400
    assert hidden.json()["errors"] == {"team": ["There is no team with the slug 'payments'."]}
    assert not ApiToken.objects.exists()


def test_owners_list_and_revoke_team_tokens_members_see_only_their_own(alice, bob, payments):
    team_token, _ = team_token_create(actor=alice, team=payments, name="ci", scope="write", via=VIA)
    mine = session(bob).post(TOKENS, {"name": "laptop"}, format="json").json()

    assert [t["id"] for t in session(bob).get(TOKENS).json()["results"]] == [mine["id"]]
    assert mine["scope"] == "read" and mine["team"] is None
    assert session(bob).post(f"{TOKENS}{team_token.pk}/revoke/").status_code == 404
    revoked = session(alice).post(f"{TOKENS}{team_token.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert AuditEvent.objects.get(action="apitoken.revoke").team == payments


def test_a_token_cannot_outlive_the_maximum_lifetime(alice, settings):
    settings.TOKEN_MAX_DAYS = 30
    too_late = (timezone.now() + timedelta(days=31)).isoformat()

    refused = session(alice).post(TOKENS, {"name": "forever", "expires_at": too_late}, format="json")
    default = session(alice).post(TOKENS, {"name": "default"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"]["expires_at"][0].startswith("Tokens live at most 30 days")
    assert default.status_code == 201
    lifetime = ApiToken.objects.get(pk=default.json()["id"]).expires_at - timezone.now()
    assert timedelta(days=29) < lifetime <= timedelta(days=30)


def test_each_team_token_is_throttled_on_its_own(alice, payments, monkeypatch):
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "2/min")
    busy, busy_plain = team_token_create(actor=alice, team=payments, name="busy", scope="read", via=VIA)
    calm, calm_plain = team_token_create(actor=alice, team=payments, name="calm", scope="read", via=VIA)
    cache.delete_many([f"throttle_user_token-{busy.pk}", f"throttle_user_token-{calm.pk}"])

    busy_codes = [bearer(busy_plain).get("/api/v1/teams/").status_code for _ in range(3)]
    calm_codes = [bearer(calm_plain).get("/api/v1/teams/").status_code for _ in range(2)]

    assert busy_codes == [200, 200, 429]
    assert calm_codes == [200, 200]


def test_the_automation_account_gets_no_personal_tokens_and_its_role_is_not_edited_by_hand(alice, payments):
    team_token_create(actor=alice, team=payments, name="ci", scope="write", via=VIA)
    bot = Team.objects.get(pk=payments.pk).automation_user

    with pytest.raises(ValidationError):
        token_create(actor=None, user=bot, name="sneaky", scope="write", via=VIA)
    with pytest.raises(ValidationError):
        membership_set(actor=alice, team=payments, user=bot, role=Membership.Role.OWNER, via=VIA)
    with pytest.raises(ValidationError):
        membership_remove(actor=alice, membership=Membership.objects.get(user=bot), via=VIA)


def test_the_command_makes_a_team_token_as_the_system(payments):
    out, err = StringIO(), StringIO()

    call_command("create_api_token", "--team", "payments", "--name", "bootstrap", "--scope", "read", stdout=out,
                 stderr=err)

    token = ApiToken.objects.get()
    assert (token.team, token.user.username, token.created_by) == (payments, "payments-automation", None)
    assert bearer(out.getvalue().strip()).get("/api/v1/teams/").status_code == 200
    assert "payments-automation" in err.getvalue()
    assert AuditEvent.objects.get(action="apitoken.create").actor_name == "system"
    with pytest.raises(CommandError, match="either a username"):
        call_command("create_api_token", "alice", "--team", "payments", stdout=out, stderr=err)
    with pytest.raises(CommandError, match="no team with the slug 'nope'"):
        call_command("create_api_token", "--team", "nope", stdout=out, stderr=err)


def test_operators_see_and_revoke_team_tokens_but_not_other_peoples_personal_ones(payments, alice, operator):
    team_token, _ = team_token_create(actor=alice, team=payments, name="deploy", scope="read", via=VIA)
    personal, _ = token_create(actor=alice, user=alice, name="laptop", scope="read", via=VIA)

    listed = {item["id"] for item in session(operator).get(TOKENS).json()["results"]}
    revoked = session(operator).post(f"{TOKENS}{team_token.pk}/revoke/")

    assert team_token.pk in listed and personal.pk not in listed
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert session(operator).get(f"{TOKENS}{personal.pk}/").status_code == 404
