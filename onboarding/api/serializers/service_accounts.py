"""Service accounts: the representation, the create shape, and the one answer that carries the password."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import ServiceAccount
from onboarding.services.client_settings import client_settings


class ServiceAccountSerializer(serializers.ModelSerializer):
    """A team's Kafka principal (SASL/SCRAM) and where the cluster stands with it."""

    url = serializers.HyperlinkedIdentityField(view_name="api:service-account-detail")
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    principal = serializers.CharField(read_only=True, help_text="The principal ACLs name, User:<username>.")

    class Meta:
        model = ServiceAccount
        fields = ["id", "url", "cluster", "team", "name", "username", "principal", "description",
                  "can_consume_own_topics", "acl_exceptions", "producer_byte_rate", "consumer_byte_rate",
                  "request_percentage", "status", "generation", "observed_generation",
                  "last_error", "drift", "observed", "secret_set_at", "created_at", "updated_at"]
        read_only_fields = fields


class ServiceAccountSecretSerializer(ServiceAccountSerializer):
    """The account with its new password: shown in this answer only, never again."""

    password = serializers.CharField(read_only=True, help_text="Store it now: the portal does not keep it.")
    client_settings = serializers.SerializerMethodField(
        help_text="librdkafka/Java properties to connect as this account (the cluster's client SASL listener); "
                  "add sasl.password. librdkafka >= 2.6.1 (confluent-kafka >= 2.6.1) or Java clients >= 3.x.")

    class Meta(ServiceAccountSerializer.Meta):
        fields = [*ServiceAccountSerializer.Meta.fields, "password", "client_settings"]
        read_only_fields = fields

    def get_client_settings(self, account: ServiceAccount) -> dict[str, str]:
        return client_settings(account.cluster, account.username)


class ServiceAccountCreateSerializer(StrictSerializer):
    """A new service account ``<team>.<name>`` on a cluster."""

    cluster = serializers.CharField(help_text="Cluster name, e.g. local.")
    team = serializers.CharField(help_text="Owning team's slug; you must be an owner or member.")
    name = serializers.CharField(allow_blank=True, help_text="Lowercase letters, digits and '-'.")
    description = serializers.CharField(allow_blank=True, required=False, default="")
    can_consume_own_topics = serializers.BooleanField(
        required=False, default=True, help_text="READ on the team's own topics (prefix <team>.); false for an "
                                                "account that only produces.")


class ServiceAccountUpdateSerializer(StrictSerializer):
    """What may change on an account; fields left out stay as they are."""

    description = serializers.CharField(allow_blank=True, required=False)
    can_consume_own_topics = serializers.BooleanField(required=False)


class ServiceAccountQuotaSerializer(StrictSerializer):
    """The account's client quotas, all three at once; null clears one (Kafka then applies no quota for it)."""

    producer_byte_rate = serializers.IntegerField(allow_null=True, help_text="Produce bytes/s, at least 1024.")
    consumer_byte_rate = serializers.IntegerField(allow_null=True, help_text="Consume bytes/s, at least 1024.")
    request_percentage = serializers.IntegerField(
        allow_null=True, help_text="Percent of one broker request-handler thread, 1 to 10000.")
