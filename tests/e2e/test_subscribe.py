"""alice subscribes payments to a clinical topic that needs approval; carol approves it from her dashboard."""

import re

import pytest
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import Subscription, Topic
from onboarding.services.service_accounts import service_account_create
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_reconcile(monkeypatch):
    """No worker runs here: keep the queued reconcile runs out of the shared broker."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def test_a_routed_subscription_is_requested_tested_and_approved(page, browser, live_server, alice, carol, cluster,
                                                               payments, clinical, unique):
    source = topic_create(actor=carol, cluster=cluster, team=clinical, name=f"clinical.vitals-{unique}",
                          partitions=1, replication_factor=1, visibility=Topic.Visibility.PUBLIC)
    Topic.objects.filter(pk=source.pk).update(subscriptions_need_approval=True)
    service_account_create(actor=alice, cluster=cluster, team=payments, name="billing", via="browser")

    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/topics/{source.pk}/")
    page.get_by_role("link", name="Subscribe").click()
    page.select_option("#id_service_account", label="payments.billing")
    page.check("input[name=mode][value=routed]")
    page.fill("#id_destination_name", f"payments.vitals-{unique}")
    page.fill("#id_filter", "value.pulse > `120`")
    page.fill("#id_event", '{"pulse": 150}')
    page.get_by_test_id("test-filter").click()
    expect(page.get_by_test_id("filter-test-result")).to_contain_text("Matched")
    page.fill("#id_event", '{"pulse": 80}')
    page.get_by_test_id("test-filter").click()
    expect(page.get_by_test_id("filter-test-result")).to_contain_text("Not matched")
    page.fill("#id_reason", "Alerts on high pulse for billing")
    page.screenshot(path="/tmp/subscribe_form.png", full_page=True)
    page.get_by_role("button", name="Request access").click()
    expect(page.get_by_test_id("decision")).to_have_text("Waiting for approval")
    sub = Subscription.objects.get(source=source)
    assert sub.filter == "value.pulse > `120`"

    carol_context = browser.new_context()
    carol_page = carol_context.new_page()
    try:
        log_in(carol_page, live_server, "carol", PASSWORD)
        waiting = carol_page.get_by_test_id(f"waiting-{sub.pk}")
        expect(waiting).to_contain_text(source.name)
        waiting.get_by_role("button", name="Approve").click()
        expect(carol_page.locator(".messages")).to_contain_text("Approved payments")
        carol_page.goto(f"{live_server.url}/subscriptions/{sub.pk}/")
        expect(carol_page.get_by_test_id("decision")).to_have_text("Approved")
        expect(carol_page.get_by_test_id("facts")).to_contain_text(re.compile(r"value\.pulse > `120`"))
        carol_page.screenshot(path="/tmp/subscription_page.png", full_page=True)
    finally:
        carol_context.close()
    sub.refresh_from_db()
    assert (sub.decision, sub.decided_by) == (Subscription.Decision.APPROVED, carol)
