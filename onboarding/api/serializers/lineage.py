"""Sensitive-field tags and peeked events as the API shows them."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.models import SensitiveField


class SensitiveFieldSerializer(serializers.ModelSerializer):
    tagged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SensitiveField
        fields = ["path", "classification", "note", "tagged_by", "tagged_at"]
        read_only_fields = fields


class SensitiveFieldInputSerializer(serializers.Serializer):
    """Shapes input only: whether the path exists and the classification is known is the service's call."""

    path = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    classification = serializers.CharField(max_length=40, allow_blank=True, required=False, default="",
                                           help_text="phi, pii, secret or confidential.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SensitiveFieldSetSerializer(serializers.Serializer):
    fields = SensitiveFieldInputSerializer(many=True, help_text="The whole set: tags left out are removed.")


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
