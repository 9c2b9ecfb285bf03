"""Change requests: the representation every gated write answers with (202), decisions and promotion input."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from onboarding.api.serializers.topics import CONFIGS_HELP, StrictSerializer
from onboarding.models import ChangeRequest


class ChangeRequestSerializer(serializers.ModelSerializer):
    """Operations waiting for a second person: what will run (``plan``), who reads what they touch
    (``impact``), and the decision."""

    url = serializers.HyperlinkedIdentityField(view_name="api:change-request-detail")
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    operations = serializers.ListField(child=serializers.CharField(), read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True,
                                         default=None)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, allow_null=True, default=None)
    changes = serializers.SerializerMethodField(help_text="[{operation, payload}], applied in this order.")

    class Meta:
        model = ChangeRequest
        fields = ["id", "url", "title", "cluster", "team", "status", "operations", "changes", "target_type",
                  "target_id", "base_generation", "plan", "impact", "requested_by", "requested_via", "created_at",
                  "expires_at", "refreshed_at", "decided_by", "decided_at", "decision_comment", "applied_at", "error"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_changes(self, cr: ChangeRequest) -> list:
        return cr.changes


class ChangeDecisionSerializer(StrictSerializer):
    """Why it was approved or rejected; the requester reads it."""

    comment = serializers.CharField(allow_blank=True, required=False, default="")


class TopicPromoteSerializer(StrictSerializer):
    """Adjust the promoted topic for the next environment; anything left out is copied from this one."""

    partitions = serializers.IntegerField(required=False)
    replication_factor = serializers.IntegerField(required=False)
    configs = serializers.DictField(child=serializers.JSONField(), required=False, help_text=CONFIGS_HELP)
