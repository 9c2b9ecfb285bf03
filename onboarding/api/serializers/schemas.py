"""Schemas: the subject representation, its versions, and the shapes of check, submit, diff and try-event.

Input serializers only shape what arrives (a schema may come as text or as a JSON document); the
schema services check formats, compatibility and modes, so the API and the form say the same thing.
"""

from __future__ import annotations

import dataclasses
import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from onboarding.api.fields import ServiceChoiceField
from onboarding.api.serializers.topics import StrictSerializer
from onboarding.models import Compatibility, Schema, SchemaFormat, SchemaVersion

TEXT_OR_JSON = {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": {}},
                          {"type": "array", "items": {}}]}


@extend_schema_field(TEXT_OR_JSON)
class DocumentField(serializers.Field):
    """Text as sent, or a JSON object/array serialised to text (JSON Schema and Avro are JSON documents)."""

    default_error_messages = {"invalid": "Send the {what} as text, or as a JSON object or array."}

    def __init__(self, *, what: str, **kwargs):
        self.what = what
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        if isinstance(data, str):
            return data
        if isinstance(data, (dict, list)):
            return json.dumps(data, indent=2, ensure_ascii=False)
        self.fail("invalid", what=self.what)

    def to_representation(self, value):
        return value


class SchemaVersionSerializer(serializers.ModelSerializer):
    """One version of a subject; ``text`` only with ``?include=text``."""

    author = serializers.CharField(source="author.username", read_only=True, allow_null=True, default=None)
    # Not read-only so that the schema documents it as optional: it is left out unless asked for.
    text = serializers.CharField(required=False, help_text="The schema text; only with ?include=text.")

    class Meta:
        model = SchemaVersion
        fields = ["number", "registry_id", "registry_version", "author", "note", "created_at", "registered_at",
                  "text"]
        read_only_fields = ["number", "registry_id", "registry_version", "author", "note", "created_at",
                            "registered_at"]

    def get_fields(self):
        fields = super().get_fields()
        # Views say include_text True or False; the OpenAPI generator says neither and documents the field.
        if self.context.get("include_text") is False:
            del fields["text"]  # never touch the deferred (possibly large) texts of a listing
        return fields


class SchemaVersionDetailSerializer(serializers.ModelSerializer):
    """One version with its text, as registered under the subject."""

    subject = serializers.CharField(source="schema.subject", read_only=True)
    format = serializers.CharField(source="schema.format", read_only=True)
    author = serializers.CharField(source="author.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = SchemaVersion
        fields = ["subject", "format", "number", "registry_id", "registry_version", "author", "note", "created_at",
                  "registered_at", "fingerprint", "text"]
        read_only_fields = fields


class TopicRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class SchemaSerializer(serializers.ModelSerializer):
    """A subject (``<topic>-<side>``): its mode, where the registry stands, its versions and the latest text."""

    url = serializers.HyperlinkedIdentityField(view_name="api:schema-detail")
    subject = serializers.CharField(read_only=True)
    topic = TopicRefSerializer(read_only=True)
    drift = serializers.JSONField(read_only=True, allow_null=True,
                                  help_text="What differs in the registry (status drifted); null when it matches.")
    versions = SchemaVersionSerializer(many=True, read_only=True)
    latest_version = serializers.SerializerMethodField()
    latest_text = serializers.CharField(read_only=True, allow_null=True, help_text="The text of the latest version.")

    class Meta:
        model = Schema
        fields = ["id", "url", "subject", "topic", "side", "format", "compatibility", "status", "generation",
                  "observed_generation", "last_error", "drift", "versions", "latest_version", "latest_text",
                  "created_at", "updated_at", "ready_at"]
        read_only_fields = fields

    def get_latest_version(self, schema: Schema) -> int | None:
        numbers = [version.number for version in schema.versions.all()]
        return max(numbers) if numbers else None


class SchemaCheckSerializer(StrictSerializer):
    """A proposed version of the schema of one side of a topic."""

    topic = serializers.IntegerField(help_text="The topic's id.")
    side = ServiceChoiceField(choices=Schema.Side.choices, required=False, default=Schema.Side.VALUE,
                              help_text="key or value (default value).")
    format = ServiceChoiceField(choices=SchemaFormat.choices)
    schema = DocumentField(what="schema", help_text="The schema as text (Protobuf, Avro, JSON Schema) or, for Avro "
                                                    "and JSON Schema, as a JSON object or array.")
    compatibility = ServiceChoiceField(choices=Compatibility.choices, required=False, allow_blank=False,
                                       help_text="A new mode for the subject; by default the subject's current one "
                                                 "(the cluster's default for a new subject).")


class SchemaSubmitSerializer(SchemaCheckSerializer):
    """A new version to store; the worker registers it."""

    note = serializers.CharField(required=False, allow_blank=True, help_text="Why this version, for the history.")


class ChangeValueField(serializers.JSONField):
    """What a changed part was or became: a JSON value; a field's description (type, default) as an object."""

    def to_representation(self, value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            return str(value)
        return value


class ChangeSerializer(serializers.Serializer):
    """One difference between two versions."""

    kind = serializers.CharField(read_only=True, help_text="e.g. field_added, type_changed, required_added.")
    path = serializers.CharField(read_only=True, help_text="Dotted path of the changed part, e.g. Payment.currency.")
    old = ChangeValueField(read_only=True, allow_null=True)
    new = ChangeValueField(read_only=True, allow_null=True)
    description = serializers.CharField(source="describe", read_only=True)


class SchemaCheckResultSerializer(serializers.Serializer):
    """The verdict on a proposed version: nothing is stored."""

    subject = serializers.CharField(read_only=True)
    acceptable = serializers.BooleanField(read_only=True, help_text="No problems, and compatible: submit it.")
    compatible = serializers.BooleanField(read_only=True, allow_null=True,
                                          help_text="The registry's verdict; null when problems came first.")
    mode = serializers.CharField(read_only=True, help_text="The compatibility mode it was checked under.")
    problems = serializers.ListField(child=serializers.CharField(), read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True,
                                    help_text="Why it is incompatible, field by field.")
    changes = ChangeSerializer(many=True, read_only=True, help_text="Differences from the latest version.")
    against_version = serializers.IntegerField(read_only=True, allow_null=True)


class CompatibilitySerializer(StrictSerializer):
    """A new compatibility mode for the subject."""

    compatibility = ServiceChoiceField(choices=Compatibility.choices, allow_blank=False)


class DiffSerializer(serializers.Serializer):
    subject = serializers.CharField(read_only=True)
    from_version = serializers.IntegerField(read_only=True)
    to_version = serializers.IntegerField(read_only=True)
    changes = ChangeSerializer(many=True, read_only=True)


class TryEventSerializer(StrictSerializer):
    """An event to check against a version of the subject."""

    event = DocumentField(what="event", help_text="The event as JSON text, or as a JSON object or array.")
    version = serializers.IntegerField(required=False, min_value=1, help_text="Default: the latest version.")


class EventProblemSerializer(serializers.Serializer):
    path = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)


class TryEventResultSerializer(serializers.Serializer):
    subject = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    valid = serializers.BooleanField(read_only=True)
    problems = EventProblemSerializer(many=True, read_only=True)
