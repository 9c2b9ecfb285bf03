"""Shapes of the consumer-group API: groups, their partitions, lag history, reset requests and their plans."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import OffsetReset


class GroupSummarySerializer(serializers.Serializer):
    group_id = serializers.CharField()
    cluster = serializers.CharField()
    state = serializers.CharField(help_text="Kafka's state, lower case: stable, empty, preparingrebalance, dead...")
    members = serializers.IntegerField()
    topics = serializers.ListField(child=serializers.CharField())
    lag = serializers.IntegerField(help_text="Summed over every partition the group committed to.")


class GroupMemberSerializer(serializers.Serializer):
    member_id = serializers.CharField()
    client_id = serializers.CharField()
    host = serializers.CharField()
    partitions = serializers.ListField(child=serializers.CharField(), help_text='"topic[partition]" each.')


class GroupPartitionSerializer(serializers.Serializer):
    topic = serializers.CharField()
    partition = serializers.IntegerField()
    committed = serializers.IntegerField(allow_null=True)
    low = serializers.IntegerField(allow_null=True, help_text="The partition's first offset.")
    high = serializers.IntegerField(allow_null=True, help_text="The partition's end (next offset).")
    lag = serializers.IntegerField(allow_null=True)
    member = serializers.CharField(help_text="The member reading it now, empty when none.")


class GroupDetailSerializer(serializers.Serializer):
    group_id = serializers.CharField()
    cluster = serializers.CharField()
    state = serializers.CharField()
    lag = serializers.IntegerField()
    topics = serializers.ListField(child=serializers.CharField())
    members = GroupMemberSerializer(many=True)
    partitions = GroupPartitionSerializer(many=True)


class LagPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    lag = serializers.IntegerField()


class LagHistorySerializer(serializers.Serializer):
    group_id = serializers.CharField()
    cluster = serializers.CharField()
    topics = serializers.DictField(child=LagPointSerializer(many=True), help_text="Topic -> samples, oldest first.")


class ResetInputSerializer(StrictSerializer):
    topic = serializers.CharField(help_text="The topic's name on the group's cluster.")
    strategy = serializers.ChoiceField(choices=OffsetReset.Strategy.values)
    timestamp = serializers.DateTimeField(required=False, allow_null=True,
                                          help_text="For strategy timestamp: the first events at or after it.")
    shift = serializers.IntegerField(required=False, allow_null=True,
                                     help_text="For strategy shift: events to move (negative rereads).")
    offset = serializers.IntegerField(required=False, allow_null=True, help_text="For strategy offset.")
    partitions = serializers.ListField(child=serializers.IntegerField(min_value=0), required=False, default=list,
                                       help_text="Only these partitions; empty means all.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(required=False, default=False,
                                       help_text="Answer the plan only; nothing changes.")


class PartitionPlanSerializer(serializers.Serializer):
    partition = serializers.IntegerField()
    current = serializers.IntegerField(allow_null=True, help_text="The committed offset now; null if never.")
    new = serializers.IntegerField()
    lag_before = serializers.IntegerField(allow_null=True)
    lag_after = serializers.IntegerField()
    lag_delta = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()


class ResetPlanSerializer(serializers.Serializer):
    group = serializers.CharField()
    topic = serializers.CharField()
    partitions = PartitionPlanSerializer(many=True)
    totals = serializers.DictField(child=serializers.IntegerField(allow_null=True))
    changes = serializers.IntegerField(help_text="Partitions whose offset moves.")
    blocked = serializers.CharField(help_text="Why it cannot be applied now (active members), else empty.")
    approval_by = serializers.CharField(help_text="The team whose owners must approve, else empty.")


class OffsetResetSerializer(serializers.ModelSerializer):
    cluster = serializers.CharField(source="cluster.name")
    team = serializers.CharField(source="team.slug")
    topic = serializers.CharField(source="topic.name")
    topic_team = serializers.CharField(source="topic.team.slug")
    requested_by = serializers.CharField(source="requested_by.username", default=None)
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    plan = PartitionPlanSerializer(many=True)

    class Meta:
        model = OffsetReset
        fields = ["id", "cluster", "team", "group_id", "topic", "topic_team", "strategy", "timestamp", "shift",
                  "offset", "partitions", "reason", "status", "error", "plan", "requested_by", "requested_at",
                  "decided_by", "decided_at", "decision_comment", "applied_at"]
        read_only_fields = fields


class ResetDecisionSerializer(StrictSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DeleteRecordsSerializer(StrictSerializer):
    before = serializers.DictField(child=serializers.IntegerField(min_value=-1),
                                   help_text='Partition -> offset: records before it are deleted; -1 means up to '
                                             'the end, e.g. {"0": 120, "1": -1}.')
    confirm_name = serializers.CharField(help_text="The topic's name, typed again.")


class DeleteRecordsResultSerializer(serializers.Serializer):
    topic = serializers.CharField()
    first_offsets = serializers.DictField(child=serializers.IntegerField(), help_text="Partition -> new first offset.")
