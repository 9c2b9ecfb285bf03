"""alice defines an aggregation of a payments topic through the form: a field error shows beside its field as
she types and on submit, she fixes it, and the definition page reads the window and the measures back."""

import pytest
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import Aggregation
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.integration.aggregations.helpers import with_value_schema

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_reconcile(monkeypatch):
    """No worker runs here: keep the queued reconcile runs out of the shared broker."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def test_an_aggregation_is_defined_through_the_form_after_a_field_error(page, live_server, alice, cluster, payments,
                                                                        unique):
    source = with_value_schema(topic_create(actor=alice, cluster=cluster, team=payments,
                                            name=f"payments.claims-{unique}", partitions=1, replication_factor=1))
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/topics/{source.pk}/?tab=access")
    page.get_by_test_id("aggregate-link").click()
    expect(page.locator("#id_source")).to_have_value(str(source.pk))

    page.fill("#id_name", "per-provider")
    page.fill("#id_group_by", "value.provider_id")
    page.select_option("#id_window_type", "hopping")
    page.fill("#id_size", "1h")
    page.fill("#id_advance", "2h")
    page.fill("#id_measures", "claims count\namount_total sum value.amount")
    page.fill("#id_output_topic", f"payments.per-provider-{unique}")
    # Checked as she types: the advance is refused beside its field before anything is sent.
    expect(page.locator("#err-advance")).to_have_text(
        "The advance may not exceed the window size (windows would leave gaps).")
    page.get_by_role("button", name="Define aggregation").click()
    expect(page.locator("#err-advance")).to_contain_text("may not exceed the window size")
    page.screenshot(path="/tmp/aggregation_form_error.png", full_page=True)
    assert not Aggregation.objects.exists()

    page.fill("#id_advance", "")
    page.locator("#id_advance").press_sequentially("15m")
    expect(page.locator("#err-advance")).to_be_empty()
    page.get_by_role("button", name="Define aggregation").click()
    expect(page.get_by_test_id("window")).to_have_text("hopping, size 1h, advancing by 15m, no grace")
    expect(page.get_by_test_id("measures")).to_contain_text("amount_total")
    expect(page.get_by_test_id("status-badge")).to_have_text("Pending")
    page.screenshot(path="/tmp/aggregation_page.png", full_page=True)
    agg = Aggregation.objects.get()
    assert (agg.definition_id, agg.size_ms, agg.advance_ms, agg.version) == (
        "payments.per-provider", 3_600_000, 900_000, 1)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Aggregations").click()
    expect(page.get_by_test_id("aggregation-row")).to_contain_text("hopping 1h every 15m")
    page.screenshot(path="/tmp/aggregation_list.png", full_page=True)
