"""Bearer tokens: who gets in, who is turned away and with which message; scopes; throttling."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from onboarding.models import ApiToken
from tests.fixtures.actors import PASSWORD
from tests.integration.api.conftest import TOPICS, new_name

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_valid_token_authenticates_and_records_its_use_at_most_once_a_minute(alice):
    token, plain = ApiToken.new(user=alice, name="ci")

    first = bearer(plain).get("/api/v1/teams/")

    assert first.status_code == 200
    assert [team["slug"] for team in first.json()["results"]] == ["payments"]
    token.refresh_from_db()
    used_at = token.last_used_at
    assert used_at is not None
    assert bearer(plain).get("/api/v1/teams/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == used_at

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    bearer(plain).get("/api/v1/teams/")
    token.refresh_from_db()
    assert token.last_used_at > used_at


def test_no_authorization_header_is_401_with_a_bearer_challenge(alice):
    answer = APIClient().get(TOPICS)

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert answer.json() == {"detail": "Authentication credentials were not provided."}


def test_a_revoked_token_is_refused_and_says_so(alice):
    token, plain = ApiToken.new(user=alice, name="old ci")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    answer = bearer(plain).get(TOPICS)

    assert answer.status_code == 401
    assert "revoked" in answer.json()["detail"]


def test_an_expired_token_is_refused_and_says_so(alice):
    _, plain = ApiToken.new(user=alice, name="short", expires_at=timezone.now() - timedelta(seconds=1))

    answer = bearer(plain).get(TOPICS)

    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


@pytest.mark.parametrize("mangle", [
    lambda plain: plain[:-2] + ("AA" if not plain.endswith("AA") else "BB"),  # wrong secret
    lambda plain: "pep_000000000000_" + plain.split("_", 2)[2],  # unknown key id
])
def test_a_wrong_secret_or_unknown_key_is_an_invalid_token(alice, mangle):
    token, plain = ApiToken.new(user=alice, name="ci")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # status is not leaked without the secret

    answer = bearer(mangle(plain)).get(TOPICS)

    assert answer.status_code == 401
    assert answer.json() == {"detail": "Invalid token."}


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer not-a-portal-token", "Bearer pep__secret"])
def test_a_malformed_bearer_header_is_401_with_the_expected_format(alice, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    answer = client.get(TOPICS)

    assert answer.status_code == 401
    assert "pep_<key id>_<secret>" in answer.json()["detail"]


def test_a_disabled_account_cannot_use_its_tokens(alice):
    _, plain = ApiToken.new(user=alice, name="ci")
    alice.is_active = False
    alice.save()

    assert bearer(plain).get(TOPICS).status_code == 401


def test_a_read_scope_token_reads_but_every_unsafe_method_is_403(alice, cluster, payments_topic):
    topic = payments_topic()
    _, plain = ApiToken.new(user=alice, name="dashboard", scope=ApiToken.Scope.READ)
    client = bearer(plain)
    url = f"{TOPICS}{topic.pk}/"

    assert client.get(url).status_code == 200
    answers = [
        client.post(TOPICS, {"cluster": "local", "team": "payments", "name": new_name()}, format="json"),
        client.patch(url, {"description": "x"}, format="json"),
        client.put(url, {}, format="json"),
        client.delete(f"{url}?confirm={topic.name}"),
        client.post(f"{url}revert/"),
    ]

    assert [a.status_code for a in answers] == [403] * 5
    assert "read scope" in answers[0].json()["detail"]
    topic.refresh_from_db()
    assert topic.description == "" and topic.status == "pending"


def test_the_browser_session_still_works_and_its_writes_need_the_csrf_token(alice):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="alice", password=PASSWORD)

    assert client.get("/api/v1/teams/").status_code == 200
    refused = client.post(TOPICS, {"cluster": "local", "team": "payments", "name": new_name()}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_create_api_token_prints_a_working_token_once(alice, cluster):
    out, err = StringIO(), StringIO()

    call_command("create_api_token", "alice", "--name", "payments CI", "--scope", "read", "--expires-days", "30",
                 stdout=out, stderr=err)

    plain = out.getvalue().strip()
    token = ApiToken.objects.get(name="payments CI")
    assert plain.startswith(f"pep_{token.key_id}_")
    assert token.key_hash == ApiToken.hash(plain.split("_", 2)[2]) and plain.split("_", 2)[2] not in token.key_hash
    assert token.scope == "read"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert "cannot be shown again" in err.getvalue()
    assert bearer(plain).get("/api/v1/clusters/").status_code == 200
    assert bearer(plain).post(TOPICS, {}, format="json").status_code == 403


def test_create_api_token_refuses_an_unknown_user_and_a_bad_expiry(alice):
    with pytest.raises(CommandError, match="no user named 'mallory'"):
        call_command("create_api_token", "mallory")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("create_api_token", "alice", "--expires-days", "0")
    assert not ApiToken.objects.exists()


def test_a_client_over_the_rate_limit_gets_429_with_retry_after(alice, monkeypatch):
    # The rate is read from settings when the server starts; here a low one is set for this test only.
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/min")
    # Counts live in the shared cache (Redis); start this user's window empty whatever ran before.
    cache.delete(f"throttle_user_{alice.pk}")
    _, plain = ApiToken.new(user=alice, name="busy")
    client = bearer(plain)

    codes = [client.get("/api/v1/teams/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/teams/")
    assert int(limited["Retry-After"]) > 0
    assert "throttled" in limited.json()["detail"].lower()


def test_the_api_keeps_serving_when_the_throttle_cache_is_unreachable(alice, settings):
    from onboarding.api.throttling import SharedUserRateThrottle

    class Unreachable:
        def get(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    _, plain = ApiToken.new(user=alice, name="outage")
    original = SharedUserRateThrottle.cache
    SharedUserRateThrottle.cache = Unreachable()
    try:
        assert bearer(plain).get("/api/v1/teams/").status_code == 200
    finally:
        SharedUserRateThrottle.cache = original
