"""Creating a personal API token in a real browser: the secret is shown once, then only its prefix."""

import pytest
from rest_framework.test import APIClient

from onboarding.models import ApiToken
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_new_token_is_shown_once_works_and_afterwards_only_its_prefix_is_shown(page, live_server, alice):
    log_in(page, live_server, "alice", PASSWORD)
    page.get_by_role("link", name="Tokens").click()
    page.fill("#id_name", "laptop scripts")
    page.select_option("#id_scope", "read")
    page.get_by_role("button", name="Create token").click()

    plain = page.get_by_test_id("token-secret").inner_text().strip()
    assert page.get_by_test_id("once-note").is_visible()
    token = ApiToken.objects.get(user=alice)
    assert plain.startswith(f"pep_{token.key_id}_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get("/api/v1/teams/").status_code == 200

    page.get_by_role("link", name="I have copied it").click()
    row = page.get_by_test_id(f"token-{token.key_id}")
    assert f"pep_{token.key_id}_" in row.inner_text() and "laptop scripts" in row.inner_text()
    assert plain.split("_", 2)[2] not in page.content()
    page.reload()
    assert plain.split("_", 2)[2] not in page.content()
    assert page.get_by_test_id("token-secret").count() == 0

    row.get_by_role("button", name="Revoke").click()
    page.wait_for_load_state("networkidle")
    assert "revoked" in page.get_by_test_id(f"token-{token.key_id}").inner_text()
    assert client.get("/api/v1/teams/").status_code == 401
