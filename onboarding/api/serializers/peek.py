"""A peek at a topic's last events."""

from __future__ import annotations

from rest_framework import serializers


class HeaderSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField(allow_null=True)


class PeekEventSerializer(serializers.Serializer):
    partition = serializers.IntegerField()
    offset = serializers.IntegerField()
    timestamp = serializers.DateTimeField(allow_null=True)
    key = serializers.JSONField(allow_null=True, help_text="Decoded; sensitive fields masked.")
    value = serializers.JSONField(allow_null=True, help_text="Decoded; sensitive fields masked.")
    headers = serializers.SerializerMethodField()
    problems = serializers.ListField(child=serializers.CharField())

    def get_headers(self, event) -> list[dict]:
        return [{"name": name, "value": value} for name, value in event.headers]


class PeekSerializer(serializers.Serializer):
    topic = serializers.CharField(source="topic.name")
    limit = serializers.IntegerField()
    masked = serializers.DictField(child=serializers.DictField(child=serializers.CharField()),
                                   help_text="Per side (key, value): the masked paths and their classification.")
    inherited = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="Per side: the masked paths whose classification comes from a topic routed into this one, and "
                  "that topic's name.")
    events = PeekEventSerializer(many=True)
