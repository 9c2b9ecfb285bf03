"""An owner adds a webhook in the browser, copies the secret, sends a test event and sees it delivered."""

import hashlib
import hmac

import pytest

from onboarding.models import NotificationDelivery
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.fixtures.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_owner_adds_a_webhook_and_a_test_event_arrives_signed_with_the_shown_secret(
        page, live_server, celery_worker, alice, webhook_receiver):
    log_in(page, live_server, alice.username, PASSWORD)
    page.goto(f"{live_server.url}/teams/payments/webhooks/")

    form = page.get_by_test_id("add-webhook")
    form.get_by_label("Name").fill("ci")
    form.get_by_label("URL").fill("ftp://nope.example.org/")
    form.get_by_label("Resource drifted").check()
    form.get_by_role("button", name="Add").click()
    assert "Enter an http or https URL" in page.locator('[data-field="url"]').inner_text()

    form = page.get_by_test_id("add-webhook")
    form.get_by_label("URL").fill(webhook_receiver.url)
    form.get_by_role("button", name="Add").click()
    secret = page.get_by_test_id("secret").inner_text().strip()
    assert secret.startswith("whsec_")
    page.get_by_role("link", name="I have copied it").click()

    row = page.get_by_test_id("webhook-ci")
    assert "resource.drifted" in row.inner_text()
    row.get_by_role("button", name="Send test event").click()
    delivery = wait_for(lambda: NotificationDelivery.objects.filter(status="delivered").first(),
                        message="the test event to be delivered")
    page.reload()
    assert "Delivered" in page.get_by_test_id(f"delivery-{delivery.pk}").inner_text()
    assert secret not in page.content()

    [request] = webhook_receiver.requests
    assert request.headers["X-Portal-Event"] == "webhook.test"
    signed = f"{request.headers['X-Portal-Timestamp']}.{request.body}".encode()
    assert request.headers["X-Portal-Signature"] == "sha256=" + hmac.new(
        secret.encode(), signed, hashlib.sha256).hexdigest()
