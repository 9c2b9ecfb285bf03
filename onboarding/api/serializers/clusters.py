"""Clusters and their topic policies."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.models import Cluster, TopicPolicy


class TopicPolicySerializer(serializers.ModelSerializer):
    """The limits a cluster puts on topics. ``name_pattern`` is a regular expression where
    ``{team}`` stands for the owning team's slug; ``config_rules`` maps each config key a team may
    set to ``{"min": n, "max": n}`` or ``{"choices": [...]}``."""

    allowed_replication_factors = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    config_rules = serializers.DictField(child=serializers.DictField(), read_only=True)
    default_configs = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = TopicPolicy
        fields = ["name_pattern", "min_partitions", "max_partitions", "default_partitions",
                  "allowed_replication_factors", "default_replication_factor", "config_rules", "default_configs"]
        read_only_fields = fields


class ClusterSerializer(serializers.ModelSerializer):
    """A cluster and its topic policy. Connection secrets (even their references) are never shown."""

    url = serializers.HyperlinkedIdentityField(view_name="api:cluster-detail")
    topic_policy = TopicPolicySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Cluster
        fields = ["id", "url", "name", "environment", "order", "registry_url", "is_active", "topic_policy"]
        read_only_fields = fields
