from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from onboarding.models.teams import Team


class NotificationEvent(models.TextChoices):
    """What a team can be told about. ``webhook.test`` is sent only on demand, to one webhook."""

    CHANGE_REQUEST_CREATED = "change_request.created", "Change request created"
    CHANGE_REQUEST_APPROVED = "change_request.approved", "Change request approved"
    CHANGE_REQUEST_REJECTED = "change_request.rejected", "Change request rejected"
    CHANGE_REQUEST_APPLIED = "change_request.applied", "Change request applied"
    CHANGE_REQUEST_FAILED = "change_request.failed", "Change request failed"
    CHANGE_REQUEST_WITHDRAWN = "change_request.withdrawn", "Change request withdrawn"
    # Offset resets of a group over another team's topic: the topic's team decides, the group's team hears back.
    OFFSET_RESET_REQUESTED = "offset_reset.requested", "Offset reset waits for your decision"
    OFFSET_RESET_APPLIED = "offset_reset.applied", "Offset reset approved and applied"
    OFFSET_RESET_REJECTED = "offset_reset.rejected", "Offset reset rejected"
    OFFSET_RESET_FAILED = "offset_reset.failed", "Offset reset approved, but Kafka refused it"
    OFFSET_RESET_WITHDRAWN = "offset_reset.withdrawn", "Offset reset withdrawn"
    RESOURCE_DRIFTED = "resource.drifted", "Resource drifted"
    WEBHOOK_TEST = "webhook.test", "Test event"


# The events a webhook can subscribe to (the test event is not one: it is sent on request).
SUBSCRIBABLE_EVENTS = [value for value in NotificationEvent.values if value != NotificationEvent.WEBHOOK_TEST]


class Webhook(models.Model):
    """An HTTP endpoint of a team that receives signed JSON POSTs for the events it subscribes to.

    The signing secret is shown once (at creation and rotation) and kept encrypted, because every
    delivery needs it to compute the signature.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=80)
    url = models.CharField(max_length=500, help_text="http(s) URL the events are POSTed to.")
    events = ArrayField(models.CharField(max_length=40), default=list,
                        help_text="Event names this webhook receives.")
    secret = models.BinaryField(editable=False, help_text="The signing secret, encrypted.")
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="webhook_unique_team_name",
                                               violation_error_message="This team already has a webhook with "
                                                                       "this name.")]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name}"


class NotificationDelivery(models.Model):
    """One message to one destination (a webhook or an e-mail address), with its retry state.

    Rows are written in the transaction that caused the event and sent by a worker after commit; the
    periodic sweep sends whatever is due, so a lost task only delays a delivery. The body is stored as
    sent, so a receiver's complaint can be checked against it.
    """

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "E-mail"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed, will retry"
        GAVE_UP = "gave_up", "Gave up"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="notification_deliveries")
    channel = models.CharField(max_length=7, choices=Channel.choices)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries",
                                help_text="Empty for e-mail, and once the webhook is deleted (the log stays).")
    recipient = models.CharField(max_length=500, help_text="The e-mail address, or the webhook's URL when queued.")
    event = models.CharField(max_length=40, choices=NotificationEvent.choices)
    subject = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    body = models.TextField(blank=True, help_text="The request body or e-mail text, exactly as sent.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True,
                                           help_text="When the next attempt is due (also the lease of a running one).")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "notification deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient} ({self.status})"
