"""Browser form for keeping a topic in the event store: it shapes input, the event store services decide.

Indexed fields are typed one per line or comma-separated (``customer.id, status``); the retention is a number of
days, empty for ever. The services' messages come back beside the fields they name."""

from __future__ import annotations

import re

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import EventStoreBinding


def fields_from(text: str) -> list[str]:
    return [f for f in (part.strip() for part in re.split(r"[,\n]", text or "")) if f]


class EventStoreBindingForm(ServiceErrorsForm):
    mode = forms.ChoiceField(choices=EventStoreBinding.Mode.choices, widget=forms.RadioSelect,
                             initial=EventStoreBinding.Mode.LOG)
    # Text, not a number input: the browser must not swallow a bad value before the service explains it.
    retention_days = forms.CharField(required=False, label="Keep for (days)",
                                     widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "for ever"}))
    indexed_fields = forms.CharField(required=False, label="Fields to index",
                                     help_text="Value fields queries filter or sort on, e.g. customer.id, status.",
                                     widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false",
                                                                   "placeholder": "customer.id, status"}))
    generation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, binding: EventStoreBinding | None = None, **kwargs):
        if binding is not None:
            kwargs.setdefault("initial", {"mode": binding.mode, "retention_days": binding.retention_days or "",
                                          "indexed_fields": ", ".join(binding.indexed_fields),
                                          "generation": binding.generation})
        super().__init__(*args, **kwargs)
        self.binding = binding

    def values(self) -> dict:
        raw = (self.cleaned_data.get("retention_days") or "").strip()
        days: int | str | None = None
        if raw:
            days = int(raw) if raw.isdigit() else raw  # the service says what is wrong with anything else
        return {"mode": self.cleaned_data["mode"], "retention_days": days,
                "indexed_fields": fields_from(self.cleaned_data.get("indexed_fields", ""))}
