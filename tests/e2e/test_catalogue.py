"""The catalogue in a real browser: results follow the search box and the facet links without a reload."""

import pytest
from playwright.sync_api import expect

from onboarding.models import Topic
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.integration.search.conftest import PATIENT_ADMISSION, make_topic, stored_schema  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def topics(make_topic, carol, clinical):  # noqa: F811 - the shared fixture, imported above
    stored_schema(make_topic("payments.admissions", description="Admissions billed to insurers", tags=["pii"]),
                  PATIENT_ADMISSION)
    make_topic("payments.ledger", visibility=Topic.Visibility.PRIVATE, description="Ledger of patient refunds")
    make_topic("clinical.labs", actor=carol, team=clinical, description="Lab results of the patient")


def test_live_search_and_facets_narrow_the_results_in_place(topics, page, live_server, alice):
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/catalogue/")
    page.evaluate("window.notReloaded = true")
    expect(page.get_by_test_id("result-count")).to_have_text("3 topics")

    page.get_by_placeholder("Topic, field, team").fill("birth date")
    expect(page.get_by_test_id("result-count")).to_have_text("1 topic matches")
    expect(page.get_by_test_id("hit")).to_contain_text("payments.admissions")
    expect(page.locator(".matched-field")).to_contain_text("matched field patient.birth_date")
    expect(page.locator(".matched-field mark").first).to_have_text("Date")

    page.get_by_placeholder("Topic, field, team").fill("patient")
    expect(page.get_by_test_id("result-count")).to_have_text("3 topics match")
    page.get_by_test_id("facet-team-clinical").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1 topic matches")
    expect(page.get_by_test_id("hit")).to_contain_text("clinical.labs")
    assert "team=clinical" in page.url and "q=patient" in page.url

    # The chosen facet stays while the words change.
    page.get_by_placeholder("Topic, field, team").fill("lab results")
    expect(page.get_by_test_id("result-count")).to_have_text("1 topic matches")
    expect(page.get_by_test_id("facet-team-clinical")).to_have_class("selected")
    assert page.evaluate("window.notReloaded") is True


def test_an_outsider_never_sees_a_private_topic(topics, page, live_server, carol):
    log_in(page, live_server, "carol", PASSWORD)
    page.goto(f"{live_server.url}/catalogue/?q=ledger")

    expect(page.get_by_test_id("result-count")).to_have_text("0 topics match")
    expect(page.locator("body")).not_to_contain_text("payments.ledger")
