"""Connectors: the representation every endpoint returns, and the shapes of create, update and the actions.

Input serializers check only types; the connector services check the rules and ask Connect, so the API and the
browser form say the same thing (errors of config keys as ``config.<key>``)."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.fields import ServiceChoiceField
from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import Connector

CONFIG_HELP = ('The connector\'s config as {"key": "value"}, without name, connector.class or secrets; e.g. '
               '{"topics": "payments.orders", "database": "orders"}. Errors come back keyed config.<key>.')
SECRETS_HELP = ('Config key -> where the worker finds the secret: "env:VARIABLE" or "file:/path:key" '
                '(written as ${env:...} / ${file:...}); the portal never stores secret values.')


class ConnectorSerializer(serializers.ModelSerializer):
    """A connector: its desired config and state, and what the worker last reported."""

    url = serializers.HyperlinkedIdentityField(view_name="api:connector-detail")
    connector_name = serializers.CharField(read_only=True, help_text="The worker's name: <team slug>.<name>.")
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    config = serializers.JSONField(read_only=True)
    secret_refs = serializers.JSONField(read_only=True)
    task_states = serializers.JSONField(read_only=True, help_text="[{id, state, worker_id, trace}] per task.")
    drift = serializers.JSONField(read_only=True, help_text="Where the worker differs (status drifted): "
                                  "{differences: {key: {desired, observed}} or {missing: true}, observed_config}.")

    class Meta:
        model = Connector
        fields = ["id", "url", "connector_name", "cluster", "team", "name", "description", "connector_class",
                  "config", "secret_refs", "desired_state", "status", "connector_state", "task_states",
                  "runtime_error", "state_checked_at", "drift", "generation", "observed_generation", "last_error",
                  "created_at", "updated_at", "ready_at"]
        read_only_fields = fields


class _ConnectorFields(StrictSerializer):
    description = serializers.CharField(allow_blank=True, required=False)
    connector_class = serializers.CharField(allow_blank=True, help_text="One of the cluster's allowed classes.")
    config = serializers.JSONField(help_text=CONFIG_HELP)
    secret_refs = serializers.JSONField(required=False, help_text=SECRETS_HELP)
    desired_state = ServiceChoiceField(choices=Connector.DesiredState.choices, required=False)


class ConnectorCreateSerializer(_ConnectorFields):
    team = serializers.CharField(help_text="Owning team's slug; you must be an owner or member.")
    cluster = serializers.CharField(help_text="The cluster's name.")
    name = serializers.CharField(allow_blank=True, help_text="Lowercase letters, digits and '-'.")


class ConnectorUpdateSerializer(_ConnectorFields):
    """Only the fields that change (PATCH); ``generation`` the one the change is based on (409 if moved)."""

    generation = serializers.IntegerField(required=False)


class RestartSerializer(StrictSerializer):
    include_tasks = serializers.BooleanField(required=False, default=True)
    only_failed = serializers.BooleanField(required=False, default=False)


class OffsetsSerializer(StrictSerializer):
    """Leave ``offsets`` out to reset (start over); give them to alter (Connect's PATCH body's offsets)."""

    offsets = serializers.JSONField(required=False, allow_null=True)
