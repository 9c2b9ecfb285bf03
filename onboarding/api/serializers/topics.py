"""Topics: the representation every endpoint returns, and the shapes of create, update and delete.

Input serializers check only types (a number is a number, configs an object): the services check
the rules, so the API and the browser form give the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

from onboarding.api.fields import ServiceChoiceField
from onboarding.models import ApplyAttempt, Topic
from onboarding.services.topics import APPROVAL_NOT_BOOL

UNKNOWN_FIELD = "Unknown field; see the API schema for the fields this request accepts."
APPROVAL_HELP = ("Other teams' subscriptions to this public topic wait for the team's approval (private topics "
                 "always need it).")
CONFIGS_HELP = "Config name to value, e.g. {\"retention.ms\": \"86400000\"}; numbers are accepted for numeric configs."


class TopicSerializer(serializers.ModelSerializer):
    """A topic: its desired state, where the cluster stands (status, generations) and any drift."""

    url = serializers.HyperlinkedIdentityField(view_name="api:topic-detail")
    cluster = serializers.CharField(source="cluster.name", read_only=True, help_text="Cluster name.")
    team = serializers.CharField(source="team.slug", read_only=True, help_text="Owning team's slug.")
    configs = serializers.DictField(child=serializers.CharField(), read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    drift = serializers.JSONField(
        read_only=True, allow_null=True,
        help_text="Desired vs observed where the cluster differs (status drifted), e.g. "
                  "{\"partitions\": {\"desired\": 3, \"observed\": 6}, "
                  "\"configs\": {key: {\"desired\", \"observed\"}}}; null when the cluster matches.")

    class Meta:
        model = Topic
        fields = ["id", "url", "cluster", "team", "name", "partitions", "replication_factor", "configs",
                  "description", "tags", "visibility", "subscriptions_need_approval", "status", "generation",
                  "observed_generation", "last_error", "drift", "drift_reaction", "created_at", "updated_at",
                  "ready_at"]
        read_only_fields = fields


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo ("partiton") is an error rather than silently ignored."""

    # Fields of the representation that a client may send back unchanged (PUT of what GET returned).
    echoed_fields: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {key: [UNKNOWN_FIELD] for key in data
                       if key not in self.fields and key not in self.echoed_fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def _text(**kwargs) -> serializers.CharField:
    # Blank values reach the service, which explains what it needs ("Enter a topic name.").
    return serializers.CharField(allow_blank=True, trim_whitespace=False, **kwargs)


def _tags(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=_text(), help_text="Lowercase words (letters, digits, '-').", **kwargs)


def _approval() -> serializers.BooleanField:
    # The service's wording, so a bad value reads the same here as in a manifest.
    return serializers.BooleanField(required=False, help_text=APPROVAL_HELP,
                                    error_messages={"invalid": APPROVAL_NOT_BOOL})


class TopicCreateSerializer(StrictSerializer):
    """A new topic. Omitted partitions, replication factor and configs take the cluster's defaults."""

    cluster = serializers.CharField(help_text="Cluster name, e.g. local.")
    team = serializers.CharField(help_text="Owning team's slug; you must be an owner or member.")
    name = _text(help_text="Must match the cluster's name pattern, e.g. payments.orders.")
    partitions = serializers.IntegerField(required=False)
    replication_factor = serializers.IntegerField(required=False)
    configs = serializers.DictField(child=serializers.JSONField(), required=False, help_text=CONFIGS_HELP)
    description = _text(required=False)
    tags = _tags(required=False)
    visibility = ServiceChoiceField(choices=Topic.Visibility.choices, required=False)
    subscriptions_need_approval = _approval()


class TopicUpdateSerializer(StrictSerializer):
    """A change of a topic. PUT needs every changeable field, PATCH only those that change.

    Partitions may only grow; the replication factor, name, cluster and team never change (they may
    be sent back unchanged). ``generation`` is the generation the change is based on: if the topic
    moved on meanwhile the answer is 409 (the ``If-Match`` header does the same with 412).
    """

    echoed_fields = frozenset({"id", "url", "status", "observed_generation", "last_error", "drift", "created_at",
                               "updated_at", "ready_at"})
    identity = {"name": "name", "cluster": "cluster.name", "team": "team.slug"}

    partitions = serializers.IntegerField()
    configs = serializers.DictField(child=serializers.JSONField(), help_text=CONFIGS_HELP)
    description = _text()
    tags = _tags()
    visibility = ServiceChoiceField(choices=Topic.Visibility.choices)
    drift_reaction = ServiceChoiceField(choices=Topic.DriftReaction.choices,
                                        help_text="revert, report, or empty for the cluster's default.")
    # Not required on PUT: clients written before the field existed send back what they knew.
    subscriptions_need_approval = _approval()
    replication_factor = serializers.IntegerField(required=False, help_text="Cannot change; accepted unchanged.")
    generation = serializers.IntegerField(required=False, help_text="The generation this change is based on.")
    name = serializers.CharField(required=False, help_text="Cannot change; accepted unchanged.")
    cluster = serializers.CharField(required=False, help_text="Cannot change; accepted unchanged.")
    team = serializers.CharField(required=False, help_text="Cannot change; accepted unchanged.")

    def validate(self, attrs):
        topic: Topic = self.context["topic"]
        errors = {}
        for field, path in self.identity.items():
            if field in attrs:
                current = topic
                for part in path.split("."):
                    current = getattr(current, part)
                if attrs.pop(field) != current:
                    errors[field] = [f"The {field} of a topic cannot change (it is {current}); "
                                     "create a new topic instead."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TopicDeleteSerializer(StrictSerializer):
    """Deleting needs the topic's name typed again, in ``?confirm=`` or in this body."""

    confirm_name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    delete_schemas = serializers.BooleanField(required=False, default=False,
                                              help_text="Also delete the topic's schema subjects (required when "
                                                        "it has schemas); or ?delete_schemas=true.")


class AttemptSerializer(serializers.ModelSerializer):
    """One try at applying a generation to the cluster."""

    actions = serializers.ListField(child=serializers.CharField(), read_only=True,
                                    help_text="What was sent to the cluster.")

    class Meta:
        model = ApplyAttempt
        fields = ["id", "generation", "actions", "outcome", "error", "started_at", "duration_ms", "run_id"]
        read_only_fields = fields


class ObservedTopicSerializer(serializers.Serializer):
    """A topic as the cluster reports it (only configs set on the topic itself)."""

    name = serializers.CharField(read_only=True)
    partitions = serializers.IntegerField(read_only=True)
    replication_factor = serializers.IntegerField(read_only=True)
    configs = serializers.DictField(child=serializers.CharField(), read_only=True)


class ImportSerializer(StrictSerializer):
    """Operators: hand existing cluster topics to a team; their current shape becomes the desired state."""

    team = serializers.CharField(help_text="Slug of the team that will own the topics.")
    names = serializers.ListField(child=serializers.CharField(), allow_empty=True)
