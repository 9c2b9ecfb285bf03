"""Service accounts: the representation, the create shape, and the one answer that carries the password."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import ServiceAccount


class ServiceAccountSerializer(serializers.ModelSerializer):
    """A team's Kafka principal (SASL/SCRAM) and where the cluster stands with it."""

    url = serializers.HyperlinkedIdentityField(view_name="api:service-account-detail")
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    principal = serializers.CharField(read_only=True, help_text="The principal ACLs name, User:<username>.")

    class Meta:
        model = ServiceAccount
        fields = ["id", "url", "cluster", "team", "name", "username", "principal", "description", "status",
                  "generation", "observed_generation", "last_error", "secret_set_at", "created_at", "updated_at"]
        read_only_fields = fields


class ServiceAccountSecretSerializer(ServiceAccountSerializer):
    """The account with its new password: shown in this answer only, never again."""

    password = serializers.CharField(read_only=True, help_text="Store it now: the portal does not keep it.")

    class Meta(ServiceAccountSerializer.Meta):
        fields = [*ServiceAccountSerializer.Meta.fields, "password"]
        read_only_fields = fields


class ServiceAccountCreateSerializer(StrictSerializer):
    """A new service account ``<team>.<name>`` on a cluster."""

    cluster = serializers.CharField(help_text="Cluster name, e.g. local.")
    team = serializers.CharField(help_text="Owning team's slug; you must be an owner or member.")
    name = serializers.CharField(allow_blank=True, help_text="Lowercase letters, digits and '-'.")
    description = serializers.CharField(allow_blank=True, required=False, default="")
