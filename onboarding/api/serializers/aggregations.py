"""Aggregations: the representation every endpoint returns, and the shapes of create and update.

Input serializers check only types; the aggregation services check the rules (durations, windows, measures,
expressions, the source's schema), so the API and the browser form say the same thing.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from onboarding.aggregation_rules import DURATION_HINT
from onboarding.api.fields import ServiceChoiceField
from onboarding.api.serializers.topics import StrictSerializer
from onboarding.choices import MeasureOp
from onboarding.models import Aggregation

MEASURES_HELP = ('A list of {"name", "op", "field"}: name an identifier, unique; op one of '
                 f'{", ".join(MeasureOp.values)}; field a JMESPath (e.g. value.amount), left out for count.')


class MeasureSerializer(serializers.Serializer):
    """One measure of the output records (documentation only: the service checks measures)."""

    name = serializers.CharField(help_text="An identifier; a property of every result.")
    op = serializers.ChoiceField(choices=MeasureOp.choices)
    field = serializers.CharField(required=False, help_text="A JMESPath such as value.amount; not for count.")


@extend_schema_field(MeasureSerializer(many=True))
class MeasuresField(serializers.JSONField):
    """Any JSON reaches the service, which names each measure's problems; documented as a list of measures."""


@extend_schema_field({"oneOf": [{"type": "string", "example": "15m"}, {"type": "integer", "example": 900000}],
                      "nullable": True})
class DurationInputField(serializers.Field):
    """``"15m"``, ``"1h"``, ``"30s"``, ``"500ms"``, ``"2d"`` or milliseconds; the service reads it."""

    default_error_messages = {"invalid": DURATION_HINT}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", DURATION_HINT)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class AggregationSerializer(serializers.ModelSerializer):
    """An aggregation: its definition (durations in milliseconds), version, and where the engine stands."""

    url = serializers.HyperlinkedIdentityField(view_name="api:aggregation-detail")
    definition_id = serializers.CharField(read_only=True,
                                          help_text="The engine's id of the definition: <team slug>.<name>.")
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True, help_text="Owning team's slug.")
    source_name = serializers.CharField(source="source.name", read_only=True)
    measures = serializers.JSONField(read_only=True)
    dead_letter_topic = serializers.CharField(read_only=True,
                                              help_text="Where late events go when late is dead_letter.")

    class Meta:
        model = Aggregation
        fields = ["id", "url", "definition_id", "cluster", "team", "name", "description", "source", "source_name",
                  "filter", "group_by", "window_type", "size_ms", "advance_ms", "gap_ms", "grace_ms", "time_source",
                  "time_field", "measures", "emit", "late", "output_topic", "dead_letter_topic", "start_from",
                  "version", "output_schema_id", "status", "generation", "observed_generation", "last_error",
                  "created_at", "updated_at", "ready_at"]
        read_only_fields = fields


def _text(**kwargs) -> serializers.CharField:
    # Blank values reach the service, which says what it needs.
    return serializers.CharField(allow_blank=True, trim_whitespace=False, **kwargs)


class _DefinitionFields(StrictSerializer):
    description = _text(required=False)
    source = serializers.IntegerField(help_text="Id of a topic your team owns or holds an approved subscription to.")
    filter = _text(required=False, help_text="JMESPath over {value, key, headers}; empty keeps every event.")
    group_by = _text(required=False, help_text="JMESPath of the group key; empty groups by the record key.")
    window_type = ServiceChoiceField(choices=Aggregation.WindowType.choices, required=False)
    size = DurationInputField()
    advance = DurationInputField()
    gap = DurationInputField()
    grace = DurationInputField()
    time_source = ServiceChoiceField(choices=Aggregation.TimeSource.choices, required=False)
    time_field = _text(required=False, help_text="With time_source field: JMESPath to epoch ms or RFC 3339.")
    measures = MeasuresField(help_text=MEASURES_HELP)
    emit = ServiceChoiceField(choices=Aggregation.Emit.choices, required=False)
    late = ServiceChoiceField(choices=Aggregation.Late.choices, required=False)
    output_topic = _text(help_text="A new topic of your team for the results, e.g. payments.per-provider-hourly.")
    start_from = ServiceChoiceField(choices=Aggregation.StartFrom.choices, required=False)


class AggregationCreateSerializer(_DefinitionFields):
    """A new aggregation. Durations accept "15m", "1h", "30s" or milliseconds."""

    team = serializers.CharField(help_text="Owning team's slug; you must be an owner or member.")
    name = _text(help_text="Lowercase letters, digits and '-'; the definition's id is <team>.<name>.")


class AggregationUpdateSerializer(_DefinitionFields):
    """A change of an aggregation: only the fields that change (PATCH). A change of anything that shapes
    results (source, filter, group_by, window, time, measures, emit, late) is a new version, which the
    engine starts with fresh state from ``start_from``. ``generation`` is the generation the change is
    based on: if the aggregation moved on meanwhile the answer is 409."""

    generation = serializers.IntegerField(required=False, help_text="The generation this change is based on.")
