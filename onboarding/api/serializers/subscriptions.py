"""Subscriptions: the representation every endpoint returns, and the shapes of request, decisions and filters.

Input serializers check only types; the subscription services check the rules, so the API and the
browser say the same thing.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from onboarding.api.fields import ServiceChoiceField
from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import Subscription
from onboarding.routing import traffic


class SubscriptionSerializer(serializers.ModelSerializer):
    """A subscription: who gets which topic's events and how, the decision on it, and its apply status."""

    url = serializers.HyperlinkedIdentityField(view_name="api:subscription-detail")
    subscriber = serializers.CharField(source="subscriber.slug", read_only=True, help_text="Subscribing team's slug.")
    source_name = serializers.CharField(source="source.name", read_only=True)
    source_team = serializers.CharField(source="source.team.slug", read_only=True,
                                        help_text="Slug of the team that owns the source topic.")
    cluster = serializers.CharField(source="source.cluster.name", read_only=True)
    service_account = serializers.IntegerField(source="service_account_id", read_only=True)
    service_account_username = serializers.CharField(source="service_account.username", read_only=True)
    destination_name = serializers.SerializerMethodField(
        help_text="The destination's name; for a request not yet approved, the new topic created on approval.")
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True,
                                         default=None)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, allow_null=True, default=None)
    counters = serializers.SerializerMethodField(
        help_text="routed / filtered_out / dead_lettered, as the routers committed them.")

    class Meta:
        model = Subscription
        fields = ["id", "url", "subscriber", "source", "source_name", "source_team", "cluster", "service_account",
                  "service_account_username", "mode", "destination", "destination_name", "filter", "reason",
                  "decision", "requested_by", "decided_by", "decided_at", "decision_comment", "counters", "status",
                  "generation", "observed_generation", "last_error", "created_at", "updated_at", "ready_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_destination_name(self, sub: Subscription) -> str | None:
        return sub.destination.name if sub.destination_id else (sub.destination_name or None)

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_counters(self, subscription) -> dict:
        return traffic.read_counts(subscription.pk) or {}


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_blank=True, trim_whitespace=False, **kwargs)


class SubscriptionRequestSerializer(StrictSerializer):
    """Ask for a topic's events. ``routed`` needs ``destination`` (an existing topic of yours) or
    ``destination_name`` (a new topic, created under the cluster's policy)."""

    subscriber = serializers.CharField(help_text="Slug of your team, the one that receives the events.")
    source = serializers.IntegerField(help_text="Id of the topic whose events you want.")
    service_account = serializers.IntegerField(help_text="Id of your team's service account that will read.")
    mode = ServiceChoiceField(choices=Subscription.Mode.choices, required=False,
                              default=Subscription.Mode.DIRECT)
    reason = _text(help_text="Why your team needs these events; the topic's owners read it.")
    destination = serializers.IntegerField(required=False, allow_null=True,
                                           help_text="Routed: id of an existing topic of your team.")
    destination_name = _text(required=False, help_text="Routed: name of a new topic to create for the copies.")
    filter = _text(required=False, help_text="Routed: JMESPath over {value, headers, key}; empty routes everything.")


class SubscriptionFilterSerializer(StrictSerializer):
    """A routed subscription's new filter (empty routes every event)."""

    filter = _text(help_text="JMESPath over {value, headers, key}.")


class DecisionSerializer(StrictSerializer):
    """A note for the other side: why it was approved, rejected or revoked."""

    comment = _text(required=False, default="")


class FilterTestSerializer(StrictSerializer):
    """A filter and a sample event to try it on."""

    filter = _text(help_text="The JMESPath filter to try; empty matches everything.")
    event = serializers.CharField(trim_whitespace=False, help_text="The sample event's value, as JSON text.")
    headers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, allow_null=True,
                                    help_text="Sample headers: name to text.")


class FilterTestResultSerializer(serializers.Serializer):
    """Whether the sample matched, or what is wrong with the filter or the sample."""

    matched = serializers.BooleanField(allow_null=True, help_text="null when there is an error.")
    error = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(allow_null=True, help_text="1-based line of the problem, when known.")
    column = serializers.IntegerField(allow_null=True, help_text="1-based column of the problem, when known.")
    dead_letter = serializers.BooleanField(
        help_text="True when the filter is valid but fails on this event: the router would dead-letter it.")
