"""Webhook rules: URL and event checks, the signature receivers verify, the retry backoff."""

import hashlib
import hmac

import pytest

from onboarding.notifications import rules


@pytest.mark.parametrize("url", ["https://hooks.example.org/portal", "http://10.1.2.3:8080/x", "http://[::1]:9/"])
def test_http_and_https_urls_pass_when_private_addresses_are_allowed(url):
    assert rules.url_problems(url, block_private=False) == []


@pytest.mark.parametrize("url", ["ftp://hooks.example.org/", "hooks.example.org/portal", "https://", "https://a b/",
                                 "https://example.org:99999/", "javascript:alert(1)"])
def test_other_schemes_and_malformed_urls_are_refused(url):
    assert rules.url_problems(url, block_private=False) == [rules.URL_HELP]


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://localhost:8000/", "http://10.0.0.5/",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://0.0.0.0/",
                                 "http://192.168.1.1/"])
def test_internal_addresses_are_refused_when_blocked(url):
    assert rules.url_problems(url, block_private=True) == [rules.PRIVATE_URL]


def test_public_hosts_pass_when_private_addresses_are_blocked():
    assert rules.url_problems("https://hooks.example.org/x", block_private=True) == []
    assert rules.url_problems("https://93.184.215.14/x", block_private=True) == []


def test_credentials_in_the_url_are_refused():
    assert rules.url_problems("https://u:p@example.org/", block_private=False) == [
        "Do not put a user name or password in the URL; the signature authenticates the portal."]


def test_unknown_and_missing_events_are_named():
    assert rules.event_problems([]) == ["Choose at least one event."]
    assert rules.event_problems(["resource.drifted"]) == []
    [problem] = rules.event_problems(["resource.drifted", "webhook.test", "nope"])
    assert problem.startswith("Unknown event 'webhook.test', 'nope'; choose from change_request.created")


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(b"whsec_k", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest()
    assert rules.signature("whsec_k", "1700000000", '{"a":1}') == f"sha256={expected}"
    assert rules.signature("whsec_k", "1700000001", '{"a":1}') != f"sha256={expected}"


def test_backoff_doubles_from_the_base_up_to_the_maximum():
    assert [rules.backoff_seconds(n, base=30, maximum=300) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
