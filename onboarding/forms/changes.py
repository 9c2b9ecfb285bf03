"""Forms of the change-request pages: they shape input; every rule is the services'."""

from __future__ import annotations

import json

from django import forms


class PromoteForm(forms.Form):
    """What the next environment gets; prefilled with this topic's sizes and configs."""

    partitions = forms.IntegerField(min_value=1)
    replication_factor = forms.IntegerField(min_value=1)
    configs = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
                              help_text='JSON object, e.g. {"retention.ms": "604800000"}.')

    def clean_configs(self) -> dict:
        text = (self.cleaned_data.get("configs") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Give a JSON object of config name to value.")
        return value

    def add_service_errors(self, errors: dict) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
