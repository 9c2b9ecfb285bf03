"""Webhook services: a team's owners (and operators) register, change, re-key and delete webhooks.

The signing secret is generated here and returned once, by create and rotate; it is stored encrypted
because each delivery signs with it, and it never appears in audit records.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.crypto import decrypt_secret, encrypt_secret
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, NotificationDelivery, NotificationEvent, Team, Webhook
from onboarding.notifications import rules
from onboarding.outbox import record
from onboarding.permissions import is_team_owner

# Changing the label makes every stored signing secret unreadable: the webhooks would need a rotation.
SECRET_PURPOSE = b"portal/webhook-signing-secret/v1"
SECRET_PREFIX = "whsec_"
DUPLICATE_NAME = "This team already has a webhook with this name."


def webhook_secret(webhook: Webhook) -> str | None:
    """The signing secret, None if it cannot be read (SECRET_KEY changed since: rotate it)."""
    return decrypt_secret(webhook.secret, purpose=SECRET_PURPOSE)


def webhook_snapshot(webhook: Webhook) -> dict:
    """The audited state of a webhook: never the secret."""
    return {"team": webhook.team.slug, "name": webhook.name, "url": webhook.url, "events": list(webhook.events),
            "is_active": webhook.is_active}


def _check_owner(actor, team: Team, verb: str) -> None:
    if actor is not None and not is_team_owner(actor, team):
        raise PermissionDenied(f"Only the team's owners or platform operators can {verb} its webhooks.")


def validate_webhook(name: str, url: str, events: list[str]) -> None:
    """Raise the field errors of a webhook's values (the admin's form calls it too)."""
    errors = {field: problems for field, problems in (
        ("name", rules.name_problems(name)),
        ("url", rules.url_problems(url, block_private=settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES)),
        ("events", rules.event_problems(events)),
    ) if problems}
    if errors:
        raise ValidationError(errors)


def _new_secret() -> tuple[str, bytes]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    return secret, encrypt_secret(secret, purpose=SECRET_PURPOSE)


def webhook_create(*, actor, team: Team, name: str, url: str, events: list[str], is_active: bool = True,
                   via: str = AuditEvent.Via.SYSTEM) -> tuple[Webhook, str]:
    """Register a webhook; returns it and its signing secret, to show once."""
    _check_owner(actor, team, "add")
    name, url, events = (name or "").strip(), (url or "").strip(), list(dict.fromkeys(events or []))
    validate_webhook(name, url, events)
    secret, sealed = _new_secret()
    webhook = Webhook(team=team, name=name, url=url, events=events, secret=sealed, is_active=is_active,
                      created_by=actor if actor is not None and actor.is_authenticated else None)
    try:
        with transaction.atomic():
            webhook.save()
            audit_record(actor=actor, via=via, action="webhook.create", obj=webhook, team=team,
                         after=webhook_snapshot(webhook))
    except IntegrityError:
        raise ValidationError({"name": [DUPLICATE_NAME]}) from None
    return webhook, secret


def _locked(webhook: Webhook) -> Webhook:
    return Webhook.objects.select_for_update(no_key=True, of=("self",)).select_related("team").get(pk=webhook.pk)


def webhook_update(*, actor, webhook: Webhook, via: str = AuditEvent.Via.SYSTEM, name: str | None = None,
                   url: str | None = None, events: list[str] | None = None, is_active: bool | None = None) -> Webhook:
    """Change a webhook (None leaves a field alone). Waiting retries go to the new URL."""
    _check_owner(actor, webhook.team, "change")
    try:
        with transaction.atomic():
            current = _locked(webhook)
            before = webhook_snapshot(current)
            if name is not None:
                current.name = name.strip()
            if url is not None:
                current.url = url.strip()
            if events is not None:
                current.events = list(dict.fromkeys(events))
            if is_active is not None:
                current.is_active = is_active
            validate_webhook(current.name, current.url, current.events)
            after = webhook_snapshot(current)
            if after != before:
                current.save()
                audit_record(actor=actor, via=via, action="webhook.update", obj=current, team=current.team,
                             before=before, after=after)
    except IntegrityError:
        raise ValidationError({"name": [DUPLICATE_NAME]}) from None
    return current


def webhook_rotate_secret(*, actor, webhook: Webhook, via: str = AuditEvent.Via.SYSTEM) -> tuple[Webhook, str]:
    """A new signing secret (shown once); deliveries sent from now on, retries included, use it."""
    _check_owner(actor, webhook.team, "rotate the secret of")
    secret, sealed = _new_secret()
    with transaction.atomic():
        current = _locked(webhook)
        current.secret, current.secret_rotated_at = sealed, timezone.now()
        current.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
        audit_record(actor=actor, via=via, action="webhook.rotate_secret", obj=current, team=current.team,
                     after=webhook_snapshot(current), note="New signing secret generated.")
    return current, secret


def webhook_delete(*, actor, webhook: Webhook, via: str = AuditEvent.Via.SYSTEM) -> None:
    """Remove a webhook; its deliveries stay in the log, and those still waiting are given up."""
    _check_owner(actor, webhook.team, "delete")
    with transaction.atomic():
        current = _locked(webhook)
        before = webhook_snapshot(current)
        current.deliveries.filter(status__in=[NotificationDelivery.Status.PENDING, NotificationDelivery.Status.FAILED]
                                  ).update(status=NotificationDelivery.Status.GAVE_UP, next_attempt_at=None,
                                           last_error="The webhook was deleted.")
        audit_record(actor=actor, via=via, action="webhook.delete", obj=current, team=current.team, before=before)
        current.delete()


def webhook_send_test(*, actor, webhook: Webhook) -> NotificationDelivery:
    """Queue a ``webhook.test`` event to this webhook only, whatever its subscriptions, so owners can check
    their receiver. It changes no state, so it is not audited; the delivery log records it."""
    _check_owner(actor, webhook.team, "test")
    who = actor.get_username() if actor is not None and actor.is_authenticated else "system"
    with transaction.atomic():
        row = NotificationDelivery(
            team=webhook.team, channel=NotificationDelivery.Channel.WEBHOOK, webhook=webhook, recipient=webhook.url,
            event=NotificationEvent.WEBHOOK_TEST, subject=f"Test event for webhook {webhook.name}",
            payload={"description": f"A test event sent by {who}.", "webhook": webhook.name},
            next_attempt_at=timezone.now())
        record([row], team=webhook.team)
    return row
