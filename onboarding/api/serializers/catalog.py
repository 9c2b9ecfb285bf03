"""Teams and clusters, read-only: what a team needs to know before it asks for a topic."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.models import Cluster, Membership, Team, TopicPolicy


class MemberSerializer(serializers.ModelSerializer):
    """A person in a team, their role, and where it came from (``manual``: granted in the portal;
    ``sso``: from a single sign-on group, kept in step with the person's groups at each sign-in)."""

    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "role", "source"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    """A team, its contacts and its members."""

    url = serializers.HyperlinkedIdentityField(view_name="api:team-detail")
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "url", "slug", "name", "description", "contacts", "notification_emails", "members",
                  "created_at"]
        read_only_fields = fields


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
