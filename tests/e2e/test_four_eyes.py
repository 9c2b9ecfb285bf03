"""Four eyes in two browsers: alice asks to delete a topic on a cluster that gates deletions, olivia approves."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import ChangeRequest, Topic
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_reconcile(monkeypatch):
    """No worker runs here: the deletion is checked on the desired state, not on the shared broker."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def test_alice_requests_a_delete_and_olivia_approves_it_with_a_comment(page, browser, live_server, alice, operator,
                                                                      cluster, payments, gated, unique):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.retired-{unique}",
                         partitions=1, replication_factor=1)
    # As a reconcile leaves it: a topic that never reached Kafka is deleted without a request.
    Topic.objects.filter(pk=topic.pk).update(status="ready", observed_generation=topic.generation,
                                             ready_at=timezone.now())
    gated(cluster, "topic.delete")

    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/topics/{topic.pk}/delete/")
    page.fill("#id_confirm_name", topic.name)
    page.get_by_role("button", name="Delete this topic").click()
    expect(page.get_by_test_id("cr-status")).to_have_text("Waiting for approval")
    expect(page.get_by_test_id("plan")).to_contain_text("delete topic")
    expect(page.get_by_test_id("requester-note")).to_contain_text("someone else must approve")
    expect(page.get_by_role("button", name="Approve and apply")).to_have_count(0)
    request_url = page.url
    page.screenshot(path="/tmp/change_request.png", full_page=True)
    cr = ChangeRequest.objects.get()
    assert request_url.endswith(f"/changes/{cr.pk}/")

    olivia_context = browser.new_context()
    olivia = olivia_context.new_page()
    try:
        log_in(olivia, live_server, "olivia", PASSWORD)
        olivia.goto(f"{live_server.url}/changes/")
        olivia.get_by_test_id("awaiting").get_by_role("link", name=cr.title).click()
        olivia.fill("#id_comment", "Retired with the old billing flow")
        olivia.get_by_role("button", name="Approve and apply").click()
        expect(olivia.get_by_test_id("cr-status")).to_have_text("Approved and applied")
    finally:
        olivia_context.close()

    page.goto(request_url)
    expect(page.get_by_test_id("cr-status")).to_have_text("Approved and applied")
    expect(page.get_by_test_id("decision-comment")).to_have_text("Retired with the old billing flow")
    assert Topic.objects.get(pk=topic.pk).wants_deletion
