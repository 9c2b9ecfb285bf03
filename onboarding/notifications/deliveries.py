"""Sending notification deliveries: a signed POST for webhooks, an e-mail through Django's mail backend.

An attempt first claims the row with a conditional UPDATE (due, not finished) that counts the attempt
and pushes ``next_attempt_at`` past the attempt's longest duration, so the task and the sweep never
send the same attempt twice, and a worker that dies mid-send only delays the delivery until that
lease ends. A 2xx answer is delivered; anything else is retried with exponential backoff until
NOTIFY_MAX_ATTEMPTS, then given up.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from onboarding import queue
from onboarding.models import NotificationDelivery
from onboarding.notifications import rules
from onboarding.notifications.webhooks import webhook_secret
from onboarding.outbox import DELIVER_TASK

log = logging.getLogger(__name__)
Status = NotificationDelivery.Status
OPEN = [Status.PENDING, Status.FAILED]
SWEEP_BATCH = 500
USER_AGENT = "event-platform-portal-webhooks/1"


@dataclass
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    duration_ms: int = 0
    final: bool = False  # retrying cannot help (the webhook is gone or disabled)


def deliver(delivery_id: int) -> str:
    """One attempt at a due delivery; returns its status afterwards ('not due' if another run has it)."""
    row = _claim(delivery_id)
    if row is None:
        return "not due"
    clock = time.monotonic()
    try:
        outcome = _send_webhook(row) if row.channel == NotificationDelivery.Channel.WEBHOOK else _send_email(row)
    except Exception as exc:  # noqa: BLE001 - any failure of one attempt is recorded and retried, never lost
        log.exception("delivery %s failed unexpectedly", row.pk)
        outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
    outcome.duration_ms = outcome.duration_ms or int((time.monotonic() - clock) * 1000)
    return _record(row, outcome)


def _claim(delivery_id: int) -> NotificationDelivery | None:
    now = timezone.now()
    lease = now + timedelta(seconds=3 * settings.NOTIFY_TIMEOUT_SECONDS + 30)
    claimed = NotificationDelivery.objects.filter(pk=delivery_id, status__in=OPEN, next_attempt_at__lte=now).update(
        attempts=F("attempts") + 1, next_attempt_at=lease)
    if not claimed:
        return None
    return NotificationDelivery.objects.select_related("webhook", "team").get(pk=delivery_id)


def _record(row: NotificationDelivery, outcome: Outcome) -> str:
    now = timezone.now()
    fields = {"last_status_code": outcome.status_code, "last_error": outcome.error[:2000],
              "last_duration_ms": outcome.duration_ms}
    retry_in = None
    if outcome.ok:
        fields.update(status=Status.DELIVERED, delivered_at=now, next_attempt_at=None, last_error="")
    elif outcome.final or row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        fields.update(status=Status.GAVE_UP, next_attempt_at=None)
    else:
        retry_in = rules.backoff_seconds(row.attempts, base=settings.NOTIFY_BACKOFF_BASE_SECONDS,
                                         maximum=settings.NOTIFY_MAX_BACKOFF_SECONDS)
        fields.update(status=Status.FAILED, next_attempt_at=now + timedelta(seconds=retry_in))
    # Only this attempt's own row: a newer attempt (after a lease expired) must not be overwritten.
    NotificationDelivery.objects.filter(pk=row.pk, attempts=row.attempts, status__in=OPEN).update(**fields)
    if retry_in is not None:
        _retry_later(row.pk, retry_in)
    return fields["status"]


def _retry_later(delivery_id: int, seconds: int) -> None:
    # A broker outage is logged by queue.send; the sweep retries when the broker is back.
    queue.send(DELIVER_TASK, (delivery_id,), countdown=seconds)


def _send_webhook(row: NotificationDelivery) -> Outcome:
    webhook = row.webhook
    if webhook is None:
        return Outcome(ok=False, error="The webhook was deleted.", final=True)
    if not webhook.is_active:
        return Outcome(ok=False, error="The webhook is disabled.", final=True)
    secret = webhook_secret(webhook)
    if secret is None:
        return Outcome(ok=False, error="The signing secret cannot be read (the portal's key changed); rotate it.")
    if row.recipient != webhook.url:
        NotificationDelivery.objects.filter(pk=row.pk).update(recipient=webhook.url)
    if settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES and (problem := _resolves_to_private(webhook.url)):
        return Outcome(ok=False, error=problem)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Portal-Event": row.event,
               "X-Portal-Delivery": str(row.pk), "X-Portal-Timestamp": timestamp,
               "X-Portal-Signature": rules.signature(secret, timestamp, row.body)}
    clock = time.monotonic()
    try:
        # No redirects: a redirect could lead the signed request somewhere the URL check never saw.
        answer = requests.post(webhook.url, data=row.body.encode("utf-8"), headers=headers,
                               timeout=settings.NOTIFY_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        return Outcome(ok=False, error=_request_error(exc), duration_ms=_since(clock))
    duration = _since(clock)
    if 200 <= answer.status_code < 300:
        return Outcome(ok=True, status_code=answer.status_code, duration_ms=duration)
    excerpt = answer.text[:300].strip()
    return Outcome(ok=False, status_code=answer.status_code, duration_ms=duration,
                   error=f"HTTP {answer.status_code}" + (f": {excerpt}" if excerpt else ""))


def _since(clock: float) -> int:
    return max(1, int((time.monotonic() - clock) * 1000))


def _request_error(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return f"No answer within {settings.NOTIFY_TIMEOUT_SECONDS} s."
    if isinstance(exc, requests.ConnectionError):
        return f"Could not connect: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _resolves_to_private(url: str) -> str:
    """Refuse host names that resolve to internal addresses (the URL check sees only literal ones)."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as exc:
        return f"Could not resolve {host}: {exc}"
    for info in infos:
        if rules.address_is_private(ipaddress.ip_address(info[4][0].split("%")[0])):
            return rules.PRIVATE_URL
    return ""


def _send_email(row: NotificationDelivery) -> Outcome:
    try:
        send_mail(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.recipient], fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - smtplib errors, refused connections, a backend's own errors
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
    return Outcome(ok=True)


def due_deliveries():
    return NotificationDelivery.objects.filter(status__in=OPEN, next_attempt_at__lte=timezone.now())


def sweep() -> dict:
    """Queue every due delivery (lost tasks, broker outages, expired leases); the claim makes extras harmless."""
    ids = list(due_deliveries().order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    queued = 0
    for delivery_id in ids:
        if not queue.send(DELIVER_TASK, (delivery_id,)):
            break  # the broker is down: the next sweep tries again
        queued += 1
    return {"due": len(ids), "queued": queued}
