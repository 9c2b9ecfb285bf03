"""alice queries the event store from the topic page in chromium: a filter row and a time range, masked results,
the next page; a refused condition is shown beside its row. The screenshot is /tmp/event_store_query.png."""

import pytest
from playwright.sync_api import expect

from onboarding import queue
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.integration.event_store_query.conftest import document

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_reconcile(monkeypatch):
    """No worker runs here: keep the queued reconcile runs out of the shared broker."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def test_alice_filters_pages_and_sees_a_refusal_beside_its_row(page, live_server, alice, cluster, payments, unique,
                                                               keep):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.admissions-{unique}",
                         partitions=2, replication_factor=1)
    keep(topic, [document(topic.name, i % 2, i // 2, minutes=i, key=f"k{i}", ward="AB"[i % 2], n=i)
                 for i in range(9)], indexed=["ward"])
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/topics/{topic.pk}/")
    page.get_by_role("tab", name="Events").click()  # the query page is reached from the topic's Events tab
    page.get_by_test_id("event-store-query-link").click()

    page.fill("#field_0", "value.ward")
    page.fill("#value_0", "A")
    page.fill("#q-from", "2026-12-01T08:01:00")
    page.select_option("#q-sort", "timestamp")
    page.fill("#q-limit", "2")
    page.get_by_role("button", name="Query").click()

    values = page.get_by_test_id("query-value")
    expect(values).to_have_count(2)
    expect(values.first).to_contain_text('"n": 2')
    page.screenshot(path="/tmp/event_store_query.png", full_page=True)
    page.get_by_test_id("next-page").click()
    # ward A from 08:01: n = 2, 4 | 6, 8, and nothing after
    expect(values.first).to_contain_text('"n": 6')
    expect(values.last).to_contain_text('"n": 8')
    expect(page.get_by_test_id("next-page")).to_have_count(0)

    page.select_option("#op_1", "$regex")
    page.fill("#field_1", "value.ward")
    page.fill("#value_1", "B")
    page.get_by_role("button", name="Query").click()
    expect(page.get_by_test_id("row-errors")).to_contain_text("Only anchored regular expressions are accepted")
    page.screenshot(path="/tmp/event_store_query_error.png", full_page=True)
