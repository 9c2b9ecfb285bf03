"""Browser form for aggregations: it shapes input, the aggregation services decide.

Measures are typed one per line, ``name op [field]`` (``claims count``, ``amount_total sum value.amount``),
and become the service's list of ``{name, op, field}``; every rule (durations, windows, measure names and
ops, expressions, the source's schema) is the service's, put back beside the field it names.
"""

from __future__ import annotations

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import Aggregation, Team, Topic
from onboarding.selectors import aggregation_sources_for, writable_teams_of

CODE = {"class": "code", "spellcheck": "false", "autocomplete": "off"}
MONO = {"class": "mono", "spellcheck": "false", "autocomplete": "off"}
MEASURES_HELP = ("One per line: name op [field], e.g. claims count or amount_total sum value.amount. "
                 "Ops: count, sum, min, max, avg, count_distinct, first, last.")


def measures_text(measures: list[dict]) -> str:
    return "\n".join(" ".join(p for p in (m.get("name", ""), m.get("op", ""), m.get("field", "")) if p)
                     for m in measures or [])


def measures_from_text(text: str) -> list[dict]:
    """Lines to measures; a line of the wrong shape is kept as it is, so the service names what is missing."""
    measures = []
    for line in (text or "").splitlines():
        parts = line.split(None, 2)
        if not parts:
            continue
        measure = {"name": parts[0], "op": parts[1] if len(parts) > 1 else ""}
        if len(parts) > 2:
            measure["field"] = parts[2].strip()
        measures.append(measure)
    return measures


def _duration(label: str, placeholder: str) -> forms.CharField:
    # Text, not a number: "15m" and "1h" are what people type; the service reads and explains them.
    return forms.CharField(required=False, label=label, widget=forms.TextInput(attrs={**MONO,
                                                                                      "placeholder": placeholder}))


class AggregationForm(ServiceErrorsForm):
    """Define (``aggregation`` None) or change an aggregation; team and name are fixed once it exists."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    name = forms.CharField(required=False, widget=forms.TextInput(attrs=MONO))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ModelChoiceField(queryset=Topic.objects.none(), required=False, empty_label="— choose —",
                                    label="Source topic")
    filter = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 2}))
    group_by = forms.CharField(required=False, label="Group by", widget=forms.TextInput(attrs=MONO))
    window_type = forms.ChoiceField(choices=Aggregation.WindowType.choices, label="Window")
    size = _duration("Size", "1h")
    advance = _duration("Advance", "15m (hopping)")
    gap = _duration("Gap", "30m (session)")
    grace = _duration("Grace", "0")
    grace.initial = "0"
    time_source = forms.ChoiceField(choices=Aggregation.TimeSource.choices, widget=forms.RadioSelect,
                                    label="Event time", initial=Aggregation.TimeSource.RECORD)
    time_field = forms.CharField(required=False, label="Time field", widget=forms.TextInput(attrs=MONO))
    measures = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 4}),
                               help_text=MEASURES_HELP)
    emit = forms.ChoiceField(choices=Aggregation.Emit.choices)
    late = forms.ChoiceField(choices=Aggregation.Late.choices, label="Late events")
    output_topic = forms.CharField(required=False, label="Output topic", widget=forms.TextInput(attrs=MONO))
    start_from = forms.ChoiceField(choices=Aggregation.StartFrom.choices, label="A new version starts from")
    generation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, user, aggregation: Aggregation | None = None, initial=None):
        self.aggregation = aggregation
        if aggregation is not None:
            initial = {**self.initial_of(aggregation), **(initial or {})}
        super().__init__(data, initial=initial)
        if aggregation is not None:
            del self.fields["team"], self.fields["name"]
            self.team_obj = aggregation.team
            # The source may move to another topic the team may read on the same cluster.
            sources = aggregation_sources_for(self.team_obj).filter(cluster_id=aggregation.cluster_id)
        else:
            teams = writable_teams_of(user).order_by("slug")
            self.fields["team"].queryset = teams
            self.team_obj = self._chosen_team(teams)
            sources = aggregation_sources_for(self.team_obj) if self.team_obj else Topic.objects.none()
        self.fields["source"].queryset = sources
        self.fields["source"].label_from_instance = lambda t: f"{t.name} ({t.cluster.name})"

    @staticmethod
    def initial_of(agg: Aggregation) -> dict:
        from onboarding.aggregation_rules import format_duration

        return {"description": agg.description, "source": agg.source_id, "filter": agg.filter,
                "group_by": agg.group_by, "window_type": agg.window_type, "size": format_duration(agg.size_ms),
                "advance": format_duration(agg.advance_ms), "gap": format_duration(agg.gap_ms),
                "grace": format_duration(agg.grace_ms), "time_source": agg.time_source,
                "time_field": agg.time_field, "measures": measures_text(agg.measures), "emit": agg.emit,
                "late": agg.late, "output_topic": agg.output_topic, "start_from": agg.start_from,
                "generation": agg.generation}

    def _chosen_team(self, teams) -> Team | None:
        raw = self.data.get("team") if self.is_bound else self.initial.get("team")
        if raw and str(raw).isdigit() and (chosen := teams.filter(pk=raw).first()):
            return chosen
        return teams.first()

    def values(self) -> dict:
        """The service's keyword arguments of the definition (durations as typed)."""
        data = self.cleaned_data
        return {
            "description": data.get("description", ""), "source": data.get("source"),
            "filter": data.get("filter", ""), "group_by": data.get("group_by", ""),
            "window_type": data.get("window_type"), "size": data.get("size"), "advance": data.get("advance"),
            "gap": data.get("gap"), "grace": data.get("grace"), "time_source": data.get("time_source"),
            "time_field": data.get("time_field", ""), "measures": measures_from_text(data.get("measures", "")),
            "emit": data.get("emit"), "late": data.get("late"), "output_topic": data.get("output_topic", ""),
            "start_from": data.get("start_from"),
        }

    def changes(self) -> dict:
        """For an update: only what differs from the aggregation as loaded, so an untouched field never
        counts as a change (a duration typed as "60m" where "1h" was shown is the same window)."""
        before = self.initial_of(self.aggregation)
        values = self.values()
        changed = {}
        for key, value in values.items():
            shown = before.get(key)
            if key == "source":
                if value is None or value.pk != shown:
                    changed[key] = value
            elif key == "measures":
                if value != measures_from_text(shown):
                    changed[key] = value
            elif (value or "") != (shown or ""):
                changed[key] = value
        return changed
