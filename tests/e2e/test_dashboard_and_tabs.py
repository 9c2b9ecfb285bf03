"""In a real browser: the dashboard shows a new team's checklist, a drifted topic under what is wrong and an
approval waiting; the topic page's tabs swap their panel with htmx (the address follows, the back button works)
and each tab also opens as a page of its own."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import ResourceStatus, Subscription, Topic, TopicTrafficSample
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import htmx_settled, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_queued_runs(monkeypatch):
    """No worker runs here: the pages read rows only."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


@pytest.fixture
def world(alice, carol, cluster, payments, clinical):
    orders = topic_create(actor=alice, cluster=cluster, team=payments, name="payments.orders", partitions=3,
                          replication_factor=1, visibility=Topic.Visibility.PUBLIC, description="Orders placed")
    Topic.objects.filter(pk=orders.pk).update(
        status=ResourceStatus.DRIFTED, observed_generation=1, drift={"partitions": {"desired": 3, "observed": 6}},
        last_error="Changed outside the portal: partitions 3 desired, 6 on the cluster.",
        subscriptions_need_approval=True)
    orders.refresh_from_db()
    reader = service_account_create(actor=carol, cluster=cluster, team=clinical, name="reader", via="browser")[0]
    subscription_request(actor=carol, subscriber=clinical, source=orders, service_account=reader,
                         mode=Subscription.Mode.DIRECT, reason="Vitals need orders", via="browser")
    now = timezone.now()
    TopicTrafficSample.objects.bulk_create([
        TopicTrafficSample(cluster=cluster, topic=orders.name, sampled_at=now - timezone.timedelta(minutes=m),
                           end_offset=1000 - m * m, size_bytes=(1000 - m * m) * 120) for m in range(10, -1, -1)])
    return orders


def test_the_dashboard_and_the_topic_tabs(page, live_server, world):
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/")

    expect(page.get_by_test_id("waiting")).to_contain_text("payments.orders")
    expect(page.get_by_test_id("wrong-resources")).to_contain_text("Drifted")
    checklist = page.get_by_test_id("checklist-payments")
    expect(checklist.locator("li[data-done=yes]")).to_have_count(1)  # its first topic, nothing else yet
    expect(page.get_by_test_id("activity")).to_contain_text("topic.create")
    page.screenshot(path="/tmp/dashboard.png", full_page=True)

    page.get_by_test_id("wrong-resources").get_by_role("link", name="payments.orders").click()
    expect(page.get_by_test_id("drift-banner")).to_be_visible()
    expect(page.get_by_test_id("topic-actions").get_by_test_id("promote")).to_have_count(0)
    page.get_by_role("tab", name="Traffic").click()
    htmx_settled(page)
    expect(page).to_have_url(f"{live_server.url}/topics/{world.pk}/?tab=traffic")
    expect(page.get_by_test_id("traffic-plot")).to_have_attribute("data-points", "10")
    expect(page.get_by_test_id("size-plot")).to_have_attribute("data-points", "11")
    expect(page.get_by_test_id("size-totals")).to_contain_text("117.2\xa0KB kept")  # 1,000 events of 120 bytes
    expect(page.get_by_test_id("size-totals")).to_contain_text("about 120\xa0bytes per event")
    expect(page.get_by_role("tab", name="Traffic")).to_have_attribute("aria-selected", "true")
    page.screenshot(path="/tmp/topic_traffic_tab.png", full_page=True)

    page.get_by_role("tab", name="Access").click()
    htmx_settled(page)
    expect(page.get_by_test_id("producers")).to_be_visible()
    expect(page.get_by_test_id("traffic")).to_have_count(0)
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/topics/{world.pk}/?tab=traffic")
    expect(page.get_by_test_id("traffic-plot")).to_be_visible()

    page.goto(f"{live_server.url}/topics/{world.pk}/?tab=history")  # a tab's own address, without htmx
    expect(page.get_by_role("tab", name="History")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("facts")).to_have_count(0)
