"""Change requests tell the team: created, approved, applied, rejected and failed reach its webhooks, sent by
the real worker to an HTTP server in the test."""

import json

import pytest

from onboarding.changes.requests import change_request_approve, change_request_reject
from onboarding.models import AuditEvent, NotificationDelivery
from onboarding.notifications.webhooks import webhook_create
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
VIA = AuditEvent.Via.API
EVENTS = ["change_request.created", "change_request.approved", "change_request.rejected",
          "change_request.applied", "change_request.failed"]


def _request_create(alice, cluster, payments, name):
    return topic_create(actor=alice, cluster=cluster, team=payments, name=name, partitions=1, replication_factor=1,
                        via=VIA)


def _received(receiver, count: int) -> dict[str, dict]:
    """The first ``count`` deliveries, by event name, once the worker has sent them."""
    wait_for(lambda: len(receiver.requests) >= count, timeout=60, message=f"{count} webhook deliveries")
    return {request.headers["X-Portal-Event"]: json.loads(request.body) for request in receiver.requests}


def test_an_approved_request_is_announced_when_opened_approved_and_applied(
        celery_worker, cluster, payments, alice, otto, gated, topic_name, webhook_receiver):
    webhook_create(actor=alice, team=payments, name="reviews", url=webhook_receiver.url, events=EVENTS)
    gated(cluster, "topic.create")
    name = topic_name("announced")

    cr = _request_create(alice, cluster, payments, name)
    change_request_approve(actor=otto, change_request=cr, comment="fine by me", via=VIA)

    received = _received(webhook_receiver, 3)
    assert set(received) == {"change_request.created", "change_request.approved", "change_request.applied"}
    applied = received["change_request.applied"]["data"]["change_request"]
    assert applied["id"] == cr.pk and applied["status"] == "applied"
    assert applied["requested_by"] == "alice" and applied["decided_by"] == "otto"
    assert applied["comment"] == "fine by me" and applied["operations"] == ["topic.create"]
    assert applied["url"] == f"/changes/{cr.pk}/" and applied["environment"] == "dev"
    assert received["change_request.created"]["data"]["change_request"]["status"] == "pending"


def test_rejected_and_failed_requests_are_announced_with_the_comment_and_the_error(
        celery_worker, cluster, payments, alice, otto, gated, topic_name, webhook_receiver):
    webhook_create(actor=alice, team=payments, name="reviews", url=webhook_receiver.url,
                   events=["change_request.rejected", "change_request.failed"])
    gated(cluster, "topic.create")
    rejected = _request_create(alice, cluster, payments, topic_name("rejected"))
    change_request_reject(actor=otto, change_request=rejected, comment="not in prod", via=VIA)

    # The name is taken meanwhile (the gate lifted, the topic registered directly): approval now fails.
    name = topic_name("taken")
    doomed = _request_create(alice, cluster, payments, name)
    gated(cluster)
    _request_create(alice, cluster, payments, name)
    change_request_approve(actor=otto, change_request=doomed, via=VIA)

    received = _received(webhook_receiver, 2)
    assert received["change_request.rejected"]["data"]["change_request"]["comment"] == "not in prod"
    failed = received["change_request.failed"]["data"]["change_request"]
    assert failed["id"] == doomed.pk and "already exists" in failed["error"]
    assert NotificationDelivery.objects.filter(team=payments).count() == 2  # created/approved: not subscribed
