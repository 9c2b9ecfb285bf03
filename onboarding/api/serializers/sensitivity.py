"""Sensitive-field tags of a topic's events."""

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
