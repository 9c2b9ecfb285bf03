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
from onboarding.services.teams import membership_set
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
EXPRESSION = """
import json
from django.conf import settings
print(json.dumps({expression}))
"""


def probe(extra: dict, expression: str | None = None) -> subprocess.CompletedProcess:
    """Settings as a fresh process reads them from this environment (settings are read once, at start)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OIDC_")}
    env.update(extra)
    code = EXPRESSION.replace("{expression}", expression) if expression else PROBE
    return subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def probed(extra: dict, expression: str | None = None) -> dict:
    done = probe(extra, expression)
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


# ------------------------------------------------------------------------------- team roles from groups

ROLE_MAP = {"payments-leads": [("payments", "owner")], "payments-devs": [("payments", "member")],
            "clinical-readers": [("clinical", "viewer")], "ghost-team": [("ghosts", "member")]}


@pytest.fixture
def groups_mapped(provider, settings, payments, clinical):
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.OIDC_TEAM_ROLE_MAP = ROLE_MAP
    return provider


def _sign_in(provider: Provider, groups: list[str]) -> Client:
    provider.claims = {"preferred_username": "dana", "email": "dana@example.org", "groups": groups}
    client = Client()
    state = _start(client, provider)
    answer = client.get(f"/oidc/callback/?code=good-code&state={state}")
    assert answer.status_code == 302 and answer["Location"] == "/topics/", answer
    return client


def _roles(username: str) -> dict:
    return {m.team.slug: (m.role, m.source) for m in
            get_user_model().objects.get(username=username).memberships.select_related("team")}


@pytest.mark.django_db
def test_groups_give_team_roles_at_sign_in_through_the_audited_services(groups_mapped):
    _sign_in(groups_mapped, ["payments-devs", "payments-leads", "clinical-readers", "ghost-team", "unmapped"])

    assert _roles("dana") == {"payments": ("owner", "sso"), "clinical": ("viewer", "sso")}
    records = AuditEvent.objects.filter(action="membership.set", after__user="dana").order_by("id")
    assert [(r.team.slug, r.after["role"], r.actor_name, r.via) for r in records] == [
        ("payments", "owner", "system", "system"), ("clinical", "viewer", "system", "system")]
    assert records[0].note == "From single sign-on group payments-leads"


@pytest.mark.django_db
def test_a_group_that_disappears_takes_its_role_and_a_changed_one_changes_it(groups_mapped, alice):
    # alice owns payments too, so dana may stop being an owner.
    _sign_in(groups_mapped, ["payments-leads", "clinical-readers"])
    writes = AuditEvent.objects.count()
    _sign_in(groups_mapped, ["payments-leads", "clinical-readers"])
    assert AuditEvent.objects.count() == writes  # nothing changed, nothing written

    _sign_in(groups_mapped, ["payments-devs"])

    assert _roles("dana") == {"payments": ("member", "sso")}
    assert AuditEvent.objects.filter(action="membership.remove", team__slug="clinical",
                                     before__user="dana").exists()


@pytest.mark.django_db
def test_roles_granted_in_the_portal_are_kept_whatever_the_groups_say(groups_mapped, alice, payments, clinical):
    _sign_in(groups_mapped, ["clinical-readers"])
    dana = get_user_model().objects.get(username="dana")
    membership_set(actor=alice, team=payments, user=dana, role="viewer", via="browser")

    _sign_in(groups_mapped, ["payments-leads"])  # clinical's group is gone; payments' is granted by hand
    _sign_in(groups_mapped, [])

    assert _roles("dana") == {"payments": ("viewer", "manual")}


@pytest.mark.django_db
def test_the_last_owner_stays_even_when_their_group_disappears(groups_mapped, clinical):
    _sign_in(groups_mapped, ["payments-leads"])  # the fixture's payments has no other owner

    _sign_in(groups_mapped, [])

    assert _roles("dana") == {"payments": ("owner", "sso")}
    assert not AuditEvent.objects.filter(action="membership.remove").exists()


def test_the_role_map_is_read_from_the_environment_and_a_malformed_one_stops_start_up():
    read = probed({**ENABLED, "OIDC_RP_CLIENT_SECRET": "s3cret", "OIDC_GROUPS_CLAIM": "roles",
                   "OIDC_TEAM_ROLE_MAP": "payments-leads=payments:owner, /all=payments:viewer,/all=clinical:viewer"},
                  expression="[settings.OIDC_GROUPS_CLAIM, settings.OIDC_TEAM_ROLE_MAP]")
    bad = probe({**ENABLED, "OIDC_RP_CLIENT_SECRET": "s3cret", "OIDC_TEAM_ROLE_MAP": "payments-leads=payments:boss"})

    assert read == ["roles", {"payments-leads": [["payments", "owner"]],
                              "/all": [["payments", "viewer"], ["clinical", "viewer"]]}]
    assert bad.returncode != 0
    assert "OIDC_TEAM_ROLE_MAP: payments-leads=payments:boss must be group=team:role" in bad.stderr
