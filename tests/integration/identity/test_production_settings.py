"""Production settings: ``check --deploy`` finds nothing, and error pages never show a stack trace."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.integration.identity.urls_failing import SECRET_DETAIL

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "portal.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://portal.example.org",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def run_manage(env_changes: dict, *args: str) -> subprocess.CompletedProcess:
    # Only the connections come from the test environment: no DJANGO_* (DEBUG, async-unsafe) leaks in.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "OIDC_"))}
    env.update(env_changes)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_deployment_check_finds_no_issue_with_production_settings():
    done = run_manage({**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)},
                      "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_the_deployment_check_fails_when_https_is_turned_off_in_production():
    done = run_manage({**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "DJANGO_HTTPS": "false"},
                      "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode != 0
    assert "security.W004" in done.stderr and "security.W008" in done.stderr


@pytest.mark.parametrize(("name", "value", "message"), [
    ("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https", "must be a header name"),
    ("DJANGO_CSRF_TRUSTED_ORIGINS", "portal.example.org", "must list origins like https://"),
])
def test_malformed_https_settings_stop_start_up_naming_the_variable(name, value, message):
    done = run_manage({**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64), name: value}, "check")

    assert done.returncode != 0
    assert name in done.stderr and message in done.stderr


@pytest.fixture
def production_errors(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.integration.identity.urls_failing"


@pytest.mark.django_db
def test_an_unknown_address_gets_the_portals_404_page_without_debug_details(production_errors):
    answer = Client().get("/no/such/page/")

    assert answer.status_code == 404
    assert b"Not found" in answer.content
    assert b"URLconf" not in answer.content and b"urls_failing" not in answer.content


@pytest.mark.django_db
def test_a_server_error_gets_the_500_page_without_a_stack_trace(production_errors):
    answer = Client(raise_request_exception=False).get("/fail/")

    assert answer.status_code == 500
    assert b"Something went wrong on our side" in answer.content
    for leak in (b"Traceback", b"RuntimeError", SECRET_DETAIL.encode(), b"hunter2"):
        assert leak not in answer.content
