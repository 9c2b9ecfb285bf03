"""A topic's event store binding: the representation, and the shape of bind/change (types only: the event
store services check the rules, so the API and the page say the same thing)."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.fields import ServiceChoiceField
from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import EventStoreBinding


class EventStoreBindingSerializer(serializers.ModelSerializer):
    """How a topic is kept in the event store, where, and what the reconciler and the sink last reported."""

    topic = serializers.CharField(source="topic.name", read_only=True)
    topic_id = serializers.IntegerField(read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    database = serializers.CharField(source="database_name", read_only=True)
    collection = serializers.CharField(source="collection_name", read_only=True)
    connector_name = serializers.CharField(read_only=True, help_text="The managed sink's name on the worker.")
    dead_letter_topic = serializers.CharField(read_only=True, help_text="Where records the sink cannot read go, "
                                              "with the reason in __connect.errors.* headers.")
    indexed_fields = serializers.ListField(child=serializers.CharField(), read_only=True)
    task_states = serializers.JSONField(read_only=True)
    backfill = serializers.SerializerMethodField(help_text="The copies of indexed fields, and the hour buckets, "
                                                 "written into the documents stored before: {fields, hours, state "
                                                 "(queued, running, done, failed), updated, passes, started_at, "
                                                 "finished_at, error}.")
    drift = serializers.JSONField(read_only=True, help_text="The last drift found (and reverted): "
                                  "{connector: {key: {desired, observed}} or {missing: true}, indexes: {...}}.")

    class Meta:
        model = EventStoreBinding
        fields = ["id", "topic", "topic_id", "team", "mode", "retention_days", "indexed_fields", "database",
                  "collection", "connector_name", "dead_letter_topic", "status", "connector_state", "task_states",
                  "backfill", "runtime_error", "state_checked_at", "drift", "generation", "observed_generation",
                  "last_error", "created_at", "updated_at", "ready_at"]
        read_only_fields = fields

    def get_backfill(self, binding) -> dict:
        # The task's token is how it knows it is still the current one; nobody else needs it.
        return {name: value for name, value in (binding.backfill or {}).items() if name != "token"}


class EventStoreBindingWriteSerializer(StrictSerializer):
    """PUT: bind (when the topic has no binding) or change; PATCH: only the fields that change. ``generation``
    is the one the change is based on (409 if it moved)."""

    mode = ServiceChoiceField(choices=EventStoreBinding.Mode.choices, required=False,
                              help_text="log: every event (id topic#partition#offset); table: the last event per "
                                        "key, a tombstone deletes.")
    retention_days = serializers.IntegerField(required=False, allow_null=True,
                                              help_text="Days documents are kept by event time; null: for ever.")
    indexed_fields = serializers.ListField(child=serializers.CharField(allow_blank=True), required=False,
                                           help_text="Value fields to index, as paths like customer.id.")
    generation = serializers.IntegerField(required=False)
