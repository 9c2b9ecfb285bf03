"""Webhooks and the notification log: representations, input shapes, and the one answer with the secret.

Input serializers only check types; the services check names, URLs and events, so the API and the
browser form give the same messages.
"""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import NotificationDelivery, Webhook
from onboarding.models.notifications import SUBSCRIBABLE_EVENTS

EVENTS_HELP = "Event names: " + ", ".join(SUBSCRIBABLE_EVENTS) + "."


class WebhookSerializer(serializers.ModelSerializer):
    """A team's webhook (never its secret)."""

    url = serializers.CharField(read_only=True, help_text="Where events are POSTed.")
    self_url = serializers.HyperlinkedIdentityField(view_name="api:webhook-detail")
    team = serializers.CharField(source="team.slug", read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=EVENTS_HELP)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Webhook
        fields = ["id", "self_url", "team", "name", "url", "events", "is_active", "created_by", "created_at",
                  "updated_at", "secret_rotated_at"]
        read_only_fields = fields


class WebhookSecretSerializer(WebhookSerializer):
    """The webhook with its signing secret: in this answer only, never again."""

    secret = serializers.CharField(read_only=True, help_text="Store it now: the receiver verifies "
                                                             "X-Portal-Signature with it. It is not shown again.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_blank=True, trim_whitespace=False, **kwargs)


class WebhookCreateSerializer(StrictSerializer):
    team = serializers.CharField(help_text="Team slug; you must be one of its owners.")
    name = _text()
    url = _text(help_text="http(s) URL.")
    events = serializers.ListField(child=_text(), allow_empty=True, help_text=EVENTS_HELP)
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookUpdateSerializer(StrictSerializer):
    """Only the fields sent are changed."""

    name = _text(required=False)
    url = _text(required=False)
    events = serializers.ListField(child=_text(), allow_empty=True, required=False, help_text=EVENTS_HELP)
    is_active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    """One notification to one destination, with where its delivery stands."""

    team = serializers.CharField(source="team.slug", read_only=True)
    webhook = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = NotificationDelivery
        fields = ["id", "team", "channel", "webhook", "recipient", "event", "subject", "payload", "status", "attempts",
                  "next_attempt_at", "last_status_code", "last_error", "last_duration_ms", "created_at",
                  "delivered_at"]
        read_only_fields = fields


class NotificationEmailsSerializer(StrictSerializer):
    """The addresses that get an e-mail for every event of the team (the list replaces the current one)."""

    notification_emails = serializers.ListField(child=_text(), allow_empty=True)
