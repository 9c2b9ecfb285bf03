"""The base page in a real browser: anonymous users are sent to log in, members see the layout."""

import pytest
from django.contrib.auth import get_user_model

from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_anonymous_visitor_is_redirected_to_the_login_page(page, live_server):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    assert page.locator("h1").inner_text() == "Log in"


def test_a_logged_in_user_sees_the_base_page(page, live_server):
    get_user_model().objects.create_user("dana", password="correct horse battery")

    log_in(page, live_server, "dana", "correct horse battery")

    assert page.url == f"{live_server.url}/"
    assert page.get_by_test_id("current-user").inner_text() == "dana"
    assert page.locator("nav.mainnav a", has_text="Dashboard").is_visible()
    assert page.evaluate("typeof htmx") == "object", "htmx must be served locally and loaded"


def test_a_wrong_password_is_refused_on_the_form(page, live_server):
    get_user_model().objects.create_user("erin", password="correct horse battery")

    log_in(page, live_server, "erin", "wrong")

    assert "/accounts/login/" in page.url
    assert page.get_by_role("alert").is_visible()
