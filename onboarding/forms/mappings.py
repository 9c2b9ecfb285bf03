"""Browser forms for code tables and the mapping editor: they shape input, the services decide.

The editor keeps the rule list as JSON in the form (what the API takes), and adds a rule from what the person
picked: a target field, a source field, a function and its arguments. Errors the services key by path
(``rules[2].sources[0]``, ``targets.birth_date``) are shown beside that rule or that canonical field.
"""

from __future__ import annotations

import json

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.mapping.rules import FUNCTIONS
from onboarding.models import CodeTable
from onboarding.selectors import writable_teams_of
from onboarding.selectors.mappings import canonical_topics
from onboarding.selectors.teams import clusters_with_policies
from onboarding.selectors.topics import topics_visible_to

CODE = {"class": "code", "spellcheck": "false", "autocomplete": "off"}
MONO = {"class": "mono", "spellcheck": "false", "autocomplete": "off"}
# what each function's arguments look like, shown beside the arguments box
ARGS_HINTS = {
    "rename": "{}", "cast": '{"to": "int"}', "date_parse": '{"formats": ["%Y%m%d"], "output": "epoch_days"}',
    "unit": '{"from": "lb", "to": "kg", "digits": 1}', "code": '{"table": "hl7-gender"}',
    "concat": '{"sep": " "}', "split": '{"sep": " ", "index": 0}', "default": '{"value": "unknown"}',
    "constant": '{"value": "v1"}', "conditional": '{"equals": "Y", "then": true, "else": false}',
    "jsonata": '{"expr": "$uppercase(name)"}',
}


def json_or_error(text: str, what: str):
    """Decoded JSON, or a ValueError with the position, for a field error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None


class CodeTableForm(ServiceErrorsForm):
    """Create (``table`` None) or give a table a new version; team and name are fixed once it exists."""

    team = forms.ModelChoiceField(queryset=None, empty_label=None, to_field_name="slug")
    name = forms.CharField(required=False, widget=forms.TextInput(attrs=MONO))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    entries = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 10}),
                              help_text='code -> value as JSON: {"M": "male", "F": "female"}')
    has_default = forms.BooleanField(required=False, label="Default for unknown codes")
    default = forms.CharField(required=False, widget=forms.TextInput(attrs=MONO),
                              help_text="Used when has-default is ticked; JSON (\"unknown\", 0) or plain text.")
    note = forms.CharField(required=False, label="Note on this version")
    generation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, user, table: CodeTable | None = None):
        self.table = table
        initial = None
        if table is not None and table.latest is not None:
            latest = table.latest
            initial = {"description": table.description, "entries": json.dumps(latest.entries, indent=2),
                       "has_default": latest.has_default, "generation": table.generation,
                       "default": json.dumps(latest.default) if latest.has_default else ""}
        super().__init__(data, initial=initial)
        self.fields["team"].queryset = writable_teams_of(user)
        if table is not None:
            del self.fields["team"], self.fields["name"]

    def clean_entries(self):
        try:
            return json_or_error(self.cleaned_data["entries"] or "{}", "The table")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_default(self):
        raw = self.cleaned_data["default"]
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw  # plain text is a string value

    def values(self) -> dict:
        data = self.cleaned_data
        return {"entries": data["entries"], "has_default": data["has_default"], "default": data["default"],
                "description": data["description"], "note": data["note"]}


class MappingEditorForm(ServiceErrorsForm):
    """The editor's whole state: where from and to, the rule list (JSON), what is being picked, the events."""

    team = forms.ChoiceField(choices=())
    cluster = forms.ChoiceField(choices=())
    name = forms.CharField(required=False, widget=forms.TextInput(attrs=MONO))
    source_topic = forms.ChoiceField(choices=(), label="Source topic")
    canonical_topic = forms.ChoiceField(choices=(), label="Canonical topic")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(required=False, label="Note on this version")
    rules = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 8}),
                            help_text="The rule list as JSON, as the API takes it.")
    pick_target = forms.CharField(required=False, widget=forms.HiddenInput)
    pick_source = forms.CharField(required=False, widget=forms.HiddenInput)
    fn = forms.ChoiceField(choices=[(f, f) for f in FUNCTIONS], required=False, label="Function")
    args = forms.CharField(required=False, widget=forms.TextInput(attrs=MONO), label="Arguments (JSON)")
    events = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 6}),
                             label="Pasted events", help_text="An event object or a list of them.")
    recent = forms.IntegerField(required=False, min_value=0, max_value=50, label="Recent events of the source",
                                help_text="Read as peek reads them (sensitive fields masked).")
    generation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    service_fields = {"events": "events", "recent": "recent"}

    def __init__(self, data=None, *, user, mapping=None, initial=None):
        self.mapping = mapping
        super().__init__(data, initial=initial)
        self.fields["team"].choices = [(t.slug, t.slug) for t in writable_teams_of(user).order_by("slug")]
        self.fields["cluster"].choices = [(c.name, c.name) for c in clusters_with_policies().order_by("order", "name")]
        cluster = self._value("cluster") or (self.fields["cluster"].choices or [("", "")])[0][0]
        visible = topics_visible_to(user).filter(cluster__name=cluster, delete_requested_at__isnull=True)
        self.fields["source_topic"].choices = [("", "choose…")] + [(t.name, t.name) for t in visible.order_by("name")]
        self.fields["canonical_topic"].choices = [("", "choose…")] + [
            (c.topic.name, c.topic.name) for c in canonical_topics().filter(topic__cluster__name=cluster)]
        if mapping is not None:
            for fixed in ("team", "cluster", "name", "source_topic", "canonical_topic"):
                self.fields[fixed].disabled = True

    def _value(self, name: str) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix(name), "")
        return (self.initial or {}).get(name, "")

    def rules_list(self) -> list | None:
        """The rule list the form holds (None when the JSON does not parse: the error is on ``rules``)."""
        text = self._value("rules") or "[]"
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return None

    def picked_rule(self) -> dict:
        """The rule made of the picked target, source, function and arguments; ValueError says what is missing."""
        data = self.cleaned_data
        if not data.get("pick_target"):
            raise ValueError("Pick a canonical field first.")
        fn = data.get("fn") or "rename"
        args = json_or_error(data.get("args") or "{}", "The arguments")
        if not isinstance(args, dict):
            raise ValueError('The arguments are a JSON object, e.g. {"to": "int"}.')
        sources = [data["pick_source"]] if data.get("pick_source") and fn != "constant" else []
        return {"target": data["pick_target"], "sources": sources, "fn": fn, "args": args}
