"""A one-time secret is shown whole inside its card, and its copy button puts exactly it on the clipboard."""

import pytest

from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clipboard_page(browser, live_server):
    # The live server is http://localhost, a secure context, so the clipboard API is there once granted.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _assert_whole_and_copyable(page, testid: str, shot: str) -> str:
    secret = page.get_by_test_id(testid)
    text = secret.inner_text().strip()
    box, card = secret.bounding_box(), page.locator("section.card").bounding_box()
    viewport = page.viewport_size
    page.screenshot(path=shot, full_page=True)

    assert len(text) >= 20
    # Wholly inside the card and the viewport, and not cut off inside its own box.
    assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
    assert box["y"] + box["height"] <= card["y"] + card["height"]
    assert box["x"] + box["width"] <= viewport["width"] and box["y"] + box["height"] <= viewport["height"]
    assert secret.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight")
    assert secret.evaluate("e => getComputedStyle(e).fontFamily").lower().find("mono") >= 0

    page.get_by_test_id(f"{testid}-copy").click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == text
    return text


def test_a_new_token_is_shown_whole_and_copied_by_its_button(clipboard_page, live_server, alice, tmp_path):
    page = clipboard_page
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/tokens/")
    page.fill("#id_name", "laptop scripts")
    page.get_by_role("button", name="Create token").click()

    plain = _assert_whole_and_copyable(page, "token-secret", str(tmp_path / "token.png"))

    assert plain.startswith("pep_")


def test_a_service_account_password_is_shown_whole_and_copied_by_its_button(clipboard_page, live_server, alice,
                                                                           cluster, tmp_path):
    page = clipboard_page
    page.set_viewport_size({"width": 768, "height": 900})  # the narrow case is where it used to be cut off
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/teams/payments/service-accounts/")
    page.fill("#id_name", "billing")
    page.get_by_role("button", name="Create").click()

    _assert_whole_and_copyable(page, "password", str(tmp_path / "password.png"))
