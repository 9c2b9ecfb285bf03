"""The body of POST /api/v1/aggregations/preview and its answer."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.api.serializers.aggregations import _DefinitionFields, _text
from onboarding.services.aggregation_preview import MAX_EVENTS, MAX_RECENT


class AggregationPreviewSerializer(_DefinitionFields):
    """A definition as for create (nothing is saved) and the events to run it over: ``events`` pasted, or else
    the source's ``recent`` last events, read and masked as peek shows them (the read is audited)."""

    team = serializers.CharField(help_text="The team the definition is for; you must be an owner or member.")
    # A create's body may be sent as it is: its name plays no part in what the engine computes.
    name = _text(required=False, help_text="Ignored: a preview saves nothing.")
    output_topic = _text(required=False, help_text="Not needed for a preview: nothing is written.")
    aggregation = serializers.IntegerField(required=False,
                                           help_text="Id of an aggregation this definition would change (optional).")
    events = serializers.JSONField(required=False, help_text=(
        f'At most {MAX_EVENTS} events: [{{"key": ..., "value": {{...}}, "headers": {{...}}, "timestamp_ms": ...}}] '
        "or bare values (no key, the time of the preview)."))
    recent = serializers.IntegerField(required=False, help_text=f"How many recent events (default 200, at most "
                                                                f"{MAX_RECENT}) when no events are pasted.")


class PreviewAnswerSerializer(serializers.Serializer):
    results = serializers.ListField(child=serializers.DictField(), help_text="Output values in emit order.")
    late = serializers.ListField(child=serializers.DictField(), help_text='[{"index": i, "reason": "..."}]')
    events = serializers.IntegerField(help_text="How many events the engine was given.")
    origin = serializers.ChoiceField(choices=["recent", "pasted"])
