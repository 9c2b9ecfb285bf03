"""Optional single sign-on (OpenID Connect): off unless configured; when on, the login page offers it,
/oidc/authenticate/ sends the browser to the provider, and the provider's claims name a portal account."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import clear_url_caches

from onboarding.models import AuditEvent
from onboarding.services.tokens import team_token_create
from onboarding.sso import user_for_claims, username_from_claims
from tests.integration.identity.provider import Provider

ROOT = Path(__file__).resolve().parents[3]
PROVIDER = "https://idp.example.org/realms/company/protocol/openid-connect"
ENABLED = {
    "OIDC_RP_CLIENT_ID": "event-portal",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{PROVIDER}/auth",
    "OIDC_OP_TOKEN_ENDPOINT": f"{PROVIDER}/token",
    "OIDC_OP_USER_ENDPOINT": f"{PROVIDER}/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": f"{PROVIDER}/certs",
}
PROBE = """
import json
from django.conf import settings
from django.urls import NoReverseMatch, reverse
try:
    url = reverse("oidc_authentication_init")
except NoReverseMatch:
    url = None
print(json.dumps({"backends": settings.AUTHENTICATION_BACKENDS, "url": url,
                  "secret": getattr(settings, "OIDC_RP_CLIENT_SECRET", None)}))
"""


def probe(extra: dict) -> subprocess.CompletedProcess:
    """Settings as a fresh process reads them from this environment (settings are read once, at start)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OIDC_")}
    env.update(extra)
    return subprocess.run([sys.executable, "manage.py", "shell", "-c", PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def probed(extra: dict) -> dict:
    done = probe(extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_a_client_id_there_are_no_oidc_urls_or_backends():
    seen = probed({})

    assert seen == {"backends": ["django.contrib.auth.backends.ModelBackend"], "url": None, "secret": None}


def test_with_a_client_id_the_backend_and_urls_are_on_and_the_secret_may_come_from_a_file(tmp_path):
    secret = tmp_path / "oidc-secret"
    secret.write_text("from-a-file\n")

    seen = probed({**ENABLED, "OIDC_RP_CLIENT_SECRET_FILE": str(secret)})

    assert seen == {"backends": ["django.contrib.auth.backends.ModelBackend", "onboarding.sso.PortalOIDCBackend"],
                    "url": "/oidc/authenticate/", "secret": "from-a-file"}


def test_a_half_configured_provider_stops_start_up_naming_the_variable():
    done = probe({**{k: v for k, v in ENABLED.items() if k != "OIDC_OP_TOKEN_ENDPOINT"},
                  "OIDC_RP_CLIENT_SECRET": "s3cret"})

    assert done.returncode != 0
    assert "OIDC_OP_TOKEN_ENDPOINT is not set" in done.stderr


def _reload_urls():
    import portal.urls

    importlib.reload(portal.urls)
    clear_url_caches()


@pytest.fixture
def sso_on(settings):
    """Single sign-on configured in this process: the settings as settings.py makes them, and the URLs again."""
    settings.OIDC_ENABLED = True
    for key, value in ENABLED.items():
        setattr(settings, key, value)
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_RP_SCOPES = "openid email profile"
    settings.OIDC_USE_PKCE = True
    settings.LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "onboarding.sso.PortalOIDCBackend"]
    _reload_urls()
    yield
    settings.OIDC_ENABLED = False
    _reload_urls()


@pytest.mark.django_db
def test_the_login_page_offers_single_sign_on_only_when_it_is_configured(client):
    assert b"Sign in with single sign-on" not in client.get("/accounts/login/").content
    assert client.get("/oidc/authenticate/").status_code == 404


@pytest.mark.django_db
def test_sign_in_starts_at_the_providers_authorization_endpoint(sso_on):
    client = Client()
    login = client.get("/accounts/login/?next=/topics/")
    assert b"Sign in with single sign-on" in login.content
    assert b'href="/oidc/authenticate/?next=/topics/"' in login.content

    answer = client.get("/oidc/authenticate/?next=/topics/")

    assert answer.status_code == 302
    target = urlsplit(answer["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == ENABLED["OIDC_OP_AUTHORIZATION_ENDPOINT"]
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert query["client_id"] == "event-portal" and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/oidc/callback/"
    assert query["scope"] == "openid email profile"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["code_challenge_method"] == "S256"
    assert client.session["oidc_login_next"] == "/topics/"
    assert query["state"] in client.session["oidc_states"]


@pytest.mark.parametrize(("claims", "expected"), [
    ({"preferred_username": "dana.k", "email": "dana@example.org"}, "dana.k"),
    ({"email": "dana.kowalski@example.org"}, "dana.kowalski"),
    ({"preferred_username": "  ", "email": "erin@example.org"}, "erin"),
    ({"preferred_username": "has space", "email": "x@example.org"}, None),
    ({}, None),
])
def test_the_user_name_comes_from_preferred_username_else_the_email_local_part(claims, expected):
    assert username_from_claims(claims) == expected


@pytest.mark.django_db
def test_first_sign_in_creates_the_account_and_later_ones_update_it():
    created = user_for_claims({"preferred_username": "dana", "email": "dana@example.org", "given_name": "Dana"})

    assert (created.username, created.email, created.first_name) == ("dana", "dana@example.org", "Dana")
    assert not created.has_usable_password()

    again = user_for_claims({"preferred_username": "dana", "email": "Dana@example.org", "given_name": "Dana",
                             "family_name": "Kowalski"})

    assert again.pk == created.pk
    assert get_user_model().objects.get(pk=created.pk).last_name == "Kowalski"
    assert get_user_model().objects.filter(username="dana").count() == 1


@pytest.mark.django_db
def test_claims_without_an_email_are_refused_and_make_no_account():
    assert user_for_claims({"preferred_username": "dana"}) is None
    assert user_for_claims({"preferred_username": "dana", "email": ""}) is None
    assert not get_user_model().objects.filter(username="dana").exists()


@pytest.mark.django_db
def test_a_provider_account_cannot_take_over_a_different_or_special_local_account(alice, payments):
    team_token_create(actor=alice, team=payments, name="ci", scope="read", via=AuditEvent.Via.SYSTEM)
    get_user_model().objects.create_user("gone", "gone@example.org", is_active=False)

    assert user_for_claims({"preferred_username": "alice", "email": "mallory@example.org"}) is None
    assert user_for_claims({"preferred_username": "payments-automation", "email": "ci@example.org"}) is None
    assert user_for_claims({"preferred_username": "gone", "email": "gone@example.org"}) is None
    assert user_for_claims({"preferred_username": "alice", "email": "alice@example.org"}) == alice


@pytest.fixture
def provider(sso_on, settings):
    """A real OpenID provider on a local port, with the portal pointed at it."""
    running = Provider()
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{running.url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{running.url}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{running.url}/certs"
    yield running
    running.stop()


def _start(client: Client, provider: Provider) -> str:
    """Step one in the browser: the portal sends it to the provider; the provider will sign this nonce."""
    query = parse_qs(urlsplit(client.get("/oidc/authenticate/?next=/topics/")["Location"]).query)
    provider.nonce = query["nonce"][0]
    return query["state"][0]


@pytest.mark.django_db
def test_the_code_flow_signs_in_and_makes_the_account_on_first_sign_in(provider):
    provider.claims = {"preferred_username": "dana", "email": "dana@example.org", "given_name": "Dana"}
    client = Client()
    state = _start(client, provider)

    answer = client.get(f"/oidc/callback/?code=good-code&state={state}")

    assert answer.status_code == 302 and answer["Location"] == "/topics/"
    dana = get_user_model().objects.get(username="dana")
    assert int(client.session["_auth_user_id"]) == dana.pk and dana.email == "dana@example.org"
    assert provider.token_requests[0]["redirect_uri"] == "http://testserver/oidc/callback/"
    assert provider.token_requests[0]["code_verifier"]  # PKCE
    assert client.get("/topics/").status_code == 200


@pytest.mark.django_db
def test_claims_without_an_email_send_the_browser_back_to_the_login_page_with_the_reason(provider):
    provider.claims = {"preferred_username": "dana"}
    client = Client()
    state = _start(client, provider)

    answer = client.get(f"/oidc/callback/?code=good-code&state={state}")

    assert answer.status_code == 302 and answer["Location"] == "/accounts/login/?sso=failed"
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(username="dana").exists()
    assert b"Single sign-on did not succeed" in client.get(answer["Location"]).content


@pytest.mark.django_db
def test_an_id_token_issued_to_another_client_signs_nobody_in(provider):
    provider.claims = {"preferred_username": "dana", "email": "dana@example.org"}
    provider.audience = "another-app"
    client = Client(raise_request_exception=False)
    state = _start(client, provider)

    answer = client.get(f"/oidc/callback/?code=good-code&state={state}")

    assert answer.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(username="dana").exists()
