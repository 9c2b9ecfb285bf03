"""Notifications delivered by the real worker: signed webhook POSTs to an HTTP server in the test,
retries with backoff, giving up, and e-mail to a real SMTP server."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding.models import Cluster, NotificationDelivery, ResourceStatus, Topic
from onboarding.notifications.webhooks import webhook_create
from onboarding.outbox import notify
from onboarding.reconcile.sweep import sweep
from onboarding.services.teams import team_notification_emails_set
from onboarding.services.topics import topic_create
from tests.fixtures.receivers import free_port
from tests.fixtures.waiting import wait_for, wait_for_status
from tests.fixtures.workers import FAST_RECOVERY

pytestmark = pytest.mark.django_db(transaction=True)
Status = NotificationDelivery.Status
MAX_ATTEMPTS = int(FAST_RECOVERY["NOTIFY_MAX_ATTEMPTS"])


def _verifies(secret: str, request) -> bool:
    """What a receiver does: HMAC-SHA256 over '<timestamp>.<body>' with the secret it was shown."""
    signed = f"{request.headers['X-Portal-Timestamp']}.{request.body}".encode()
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["X-Portal-Signature"])


def _final(delivery_id: int) -> NotificationDelivery:
    return wait_for(lambda: NotificationDelivery.objects.filter(
        pk=delivery_id, status__in=[Status.DELIVERED, Status.GAVE_UP]).first(), timeout=60,
        message=f"delivery {delivery_id} to finish")


def _sweep_now(cluster):
    Cluster.objects.filter(pk=cluster.pk).update(last_checked_at=None)
    Topic.objects.filter(cluster=cluster).update(ready_at=timezone.now() - timedelta(hours=1))
    return sweep()


def test_drift_sends_one_signed_post_that_verifies_with_the_secret_shown_at_creation(
        celery_worker, kafka_admin, cluster, payments, alice, topic_name, webhook_receiver):
    drift_hook, secret = webhook_create(actor=alice, team=payments, name="drift", url=webhook_receiver.url,
                                        events=["resource.drifted"])
    webhook_create(actor=alice, team=payments, name="reviews", url=webhook_receiver.url + "/reviews",
                   events=["change_request.created", "change_request.approved"])
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("drift"), partitions=2,
                         replication_factor=1)
    wait_for_status(topic, ResourceStatus.READY)
    kafka_admin.delete_topics([topic.name])[topic.name].result(30)

    _sweep_now(cluster)
    _sweep_now(cluster)  # still drifted: no second notification

    delivery = _final(NotificationDelivery.objects.get(team=payments).pk)
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.webhook == drift_hook
    [request] = webhook_receiver.requests
    assert request.path == "/hooks/portal"
    assert request.headers["X-Portal-Event"] == "resource.drifted"
    assert request.headers["X-Portal-Delivery"] == str(delivery.pk)
    assert _verifies(secret, request)
    assert not _verifies(secret + "x", request)
    assert request.body == delivery.body
    body = json.loads(request.body)
    assert body["event"] == "resource.drifted" and body["team"] == "payments"
    assert body["data"]["resource"] == {"type": "topic", "id": topic.pk, "name": topic.name}
    assert body["data"]["drift"] == {"exists": {"desired": True, "observed": False}}
    assert body["data"]["cluster"] == "local" and body["data"]["reaction"] == "report"


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(celery_worker, payments, alice,
                                                                       webhook_receiver):
    webhook_create(actor=alice, team=payments, name="flaky", url=webhook_receiver.url, events=["resource.drifted"])
    webhook_receiver.answers = [500, 500]

    notify(event="resource.drifted", team=payments, subject="Drift", payload={"description": "x"})

    delivery = _final(NotificationDelivery.objects.get(team=payments).pk)
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts == 3 and delivery.last_status_code == 200 and delivery.last_error == ""
    assert len(webhook_receiver.requests) == 3
    # Every attempt is the same body, signed anew.
    assert {r.body for r in webhook_receiver.requests} == {delivery.body}
    assert len({r.headers["X-Portal-Delivery"] for r in webhook_receiver.requests}) == 1


def test_an_unreachable_url_is_given_up_after_the_last_attempt_with_the_error(celery_worker, payments, alice):
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    webhook_create(actor=alice, team=payments, name="gone", url=url, events=["resource.drifted"])

    notify(event="resource.drifted", team=payments, subject="Drift", payload={})

    delivery = _final(NotificationDelivery.objects.get(team=payments).pk)
    assert delivery.status == Status.GAVE_UP and delivery.attempts == MAX_ATTEMPTS
    assert delivery.last_status_code is None
    assert "Could not connect" in delivery.last_error and "refused" in delivery.last_error.lower()


def test_inactive_and_unsubscribed_webhooks_get_nothing(celery_worker, payments, alice, webhook_receiver):
    webhook_create(actor=alice, team=payments, name="reviews", url=webhook_receiver.url,
                   events=["change_request.applied"])
    webhook_create(actor=alice, team=payments, name="off", url=webhook_receiver.url, events=["resource.drifted"],
                   is_active=False)

    notify(event="resource.drifted", team=payments, subject="Drift", payload={})

    assert not NotificationDelivery.objects.filter(team=payments).exists()
    assert webhook_receiver.requests == []


def test_team_recipients_get_an_email_with_the_subject(celery_worker, payments, alice, smtp_inbox):
    team_notification_emails_set(actor=alice, team=payments, emails=["oncall@example.org", "lead@example.org"])

    notify(event="change_request.approved", team=payments, subject="Change request 7 approved",
           payload={"description": "Approved by olivia."})

    rows = list(NotificationDelivery.objects.filter(team=payments, channel="email"))
    assert sorted(r.recipient for r in rows) == ["lead@example.org", "oncall@example.org"]
    for row in rows:
        assert _final(row.pk).status == Status.DELIVERED
    assert sorted(rcpt for m in smtp_inbox for rcpt in m.rcpt_tos) == ["lead@example.org", "oncall@example.org"]
    message = smtp_inbox[0].content.decode()
    assert "Subject: Change request 7 approved" in message
    assert "Approved by olivia." in message


def test_a_delivery_whose_task_was_lost_is_sent_by_the_beat_sweep(celery_beat, payments, alice, webhook_receiver):
    hook, secret = webhook_create(actor=alice, team=payments, name="late", url=webhook_receiver.url,
                                  events=["resource.drifted"])
    # As if the broker had been down at commit: the row exists, no task was queued.
    delivery = NotificationDelivery.objects.create(
        team=payments, channel="webhook", webhook=hook, recipient=hook.url, event="resource.drifted",
        subject="Drift", payload={}, body='{"late":true}', next_attempt_at=timezone.now())

    assert _final(delivery.pk).status == Status.DELIVERED
    [request] = webhook_receiver.requests
    assert request.body == '{"late":true}' and _verifies(secret, request)
