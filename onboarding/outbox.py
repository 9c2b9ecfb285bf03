"""The notification outbox: ``notify`` records one delivery row per destination of a team (its subscribed
webhooks and its e-mail recipients) in the caller's transaction; a worker sends them once it commits.

Any layer reports an event here (change requests, drift found by a reconciler, team changes): it writes
rows and schedules their delivery by task name, and calls nothing above it. Nothing is sent if the
caller's transaction rolls back. If the broker is down when the transaction commits, the rows wait in
Postgres and the notification sweep (``notifications/deliveries.py``) sends them.
"""

from __future__ import annotations

import json
import logging

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from onboarding import queue
from onboarding.models import NotificationDelivery, NotificationEvent, OffsetReset, Team, Webhook

log = logging.getLogger(__name__)
DELIVER_TASK = "onboarding.deliver_notification"
Channel = NotificationDelivery.Channel


def notify(*, event: str, team: Team, subject: str, payload: dict) -> None:
    """Queue ``event`` for every active webhook of ``team`` subscribed to it and every e-mail recipient.

    Call it inside the transaction that makes the event true; delivery starts after commit.
    """
    if event not in NotificationEvent.values:
        raise ValueError(f"unknown notification event {event!r}")
    hooks = Webhook.objects.filter(team=team, is_active=True, events__contains=[event])
    emails = Team.objects.filter(pk=team.pk).values_list("notification_emails", flat=True).first() or []
    rows = [_row(team, event, subject, payload, Channel.WEBHOOK, hook.url, webhook=hook) for hook in hooks]
    rows += [_row(team, event, subject, payload, Channel.EMAIL, address) for address in emails]
    record(rows, team=team)


def _row(team: Team, event: str, subject: str, payload: dict, channel: str, recipient: str,
         webhook: Webhook | None = None) -> NotificationDelivery:
    # Through JSON once, so dates and decimals are stored exactly as they will be sent.
    plain = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    return NotificationDelivery(team=team, channel=channel, webhook=webhook, recipient=recipient, event=event,
                                subject=subject[:200], payload=plain, next_attempt_at=timezone.now())


def record(rows: list[NotificationDelivery], *, team: Team) -> list[NotificationDelivery]:
    """Insert the deliveries, fix their bodies (which carry their ids) and send them after commit."""
    if not rows:
        return rows
    with transaction.atomic():
        NotificationDelivery.objects.bulk_create(rows)
        for row in rows:
            row.body = webhook_body(row, team) if row.channel == Channel.WEBHOOK else email_body(row, team)
        NotificationDelivery.objects.bulk_update(rows, ["body"])
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: send_soon(ids))
    return rows


def webhook_body(row: NotificationDelivery, team: Team) -> str:
    """The JSON a receiver gets; compact and with sorted keys, so the signed bytes are reproducible."""
    return json.dumps({"id": row.pk, "event": row.event, "created_at": row.created_at.isoformat(),
                       "team": team.slug, "subject": row.subject, "data": row.payload},
                      sort_keys=True, separators=(",", ":"))


def email_body(row: NotificationDelivery, team: Team) -> str:
    lines = [row.subject, "", f"Team: {team.name} ({team.slug})", f"Event: {row.event}"]
    if description := row.payload.get("description"):
        lines += ["", str(description)]
    lines += ["", "Details:", json.dumps(row.payload, indent=2, sort_keys=True), "",
              f"Delivery {row.pk}. The team's owners change these e-mails on the portal's webhooks page."]
    return "\n".join(lines)


def send_soon(ids: list[int]) -> None:
    """Hand the deliveries to workers; a broker outage is logged, the sweep sends them later."""
    for delivery_id in ids:
        if not queue.send(DELIVER_TASK, (delivery_id,)):
            return  # the broker is down: the notification sweep sends the rest


def notify_drift(*, team: Team, resource_type: str, resource_id: int, name: str, cluster: str, drift: dict,
                 description: str, reverting: bool) -> None:
    """``resource.drifted``: a topic, schema, service account or subscription differs from the desired state."""
    reaction = "revert" if reverting else "report"
    then = "The portal reverts it." if reverting else "An owner decides: revert or adopt."
    notify(event=NotificationEvent.RESOURCE_DRIFTED, team=team,
           subject=f"Drift on {cluster}: {resource_type} {name} changed outside the portal",
           payload={"resource": {"type": resource_type, "id": resource_id, "name": name}, "cluster": cluster,
                    "drift": drift, "description": f"{description} {then}", "reaction": reaction})


def notify_offset_reset(reset: OffsetReset, event: str, *, team: Team) -> None:
    """``offset_reset.<event>``: a reset of a group over another team's topic waits for that team's owners
    (``requested``), or was decided, failed or withdrawn. ``team`` is who hears of it: the topic's team to decide,
    the group's team to learn the outcome."""
    who = (reset.decided_by or reset.requested_by)
    who = who.get_username() if who else "someone"
    what = f"the reset of {reset.group_id} on {reset.topic.name} to {reset.describe_target()}"
    description = {
        "requested": f"{reset.team.slug} asks for {what}; one of {reset.topic.team.slug}'s owners decides.",
        "applied": f"{who} approved {what}; it is applied.",
        "rejected": f"{who} rejected {what}; nothing changed.",
        "failed": f"{who} approved {what}, but Kafka refused it: {reset.error}",
        "withdrawn": f"{who} withdrew {what}; nothing changed.",
    }[event]
    notify(event=f"offset_reset.{event}", team=team,
           subject=f"Offset reset of {reset.group_id} on {reset.cluster.name} {event}",
           payload={"offset_reset": {
               "id": reset.pk, "cluster": reset.cluster.name, "group": reset.group_id, "team": reset.team.slug,
               "topic": reset.topic.name, "topic_team": reset.topic.team.slug, "status": reset.status,
               "target": reset.describe_target(), "reason": reset.reason,
               "url": reverse("onboarding:group_detail", args=[reset.cluster.name, reset.group_id]),
               "requested_by": reset.requested_by.get_username() if reset.requested_by else None,
               "decided_by": reset.decided_by.get_username() if reset.decided_by else None,
               "comment": reset.decision_comment, "error": reset.error,
           }, "description": description})
