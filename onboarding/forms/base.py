"""What every browser form shares: a service's errors shown beside the fields they name, and the decision form.

Forms only shape input: the rules live in the models, policies and services, so whatever a service says
is wrong is put back on the matching field, and the browser and the API show the same text.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

CONFIG_PREFIX = "cfg_"


def config_field_name(key: str) -> str:
    return CONFIG_PREFIX + key.replace(".", "_")


class ServiceErrorsForm(forms.Form):
    """A form that shows a service's ValidationError dict beside the fields it names, and per-config inputs.

    ``service_fields`` maps a service's field name to this form's where they differ.
    """

    service_fields: dict[str, str] = {}
    config_rules: dict[str, dict] = {}

    def add_config_fields(self, rules: dict[str, dict], initial: dict) -> None:
        self.config_rules = dict(sorted(rules.items()))
        for key, rule in self.config_rules.items():
            name = config_field_name(key)
            if "choices" in rule:
                choices = [("", "(cluster default)")] + [(c, c) for c in rule["choices"]]
                current = initial.get(key, "")
                if current and current not in rule["choices"]:
                    # Set before the policy narrowed: show it, or saving the form would silently drop it.
                    choices.append((current, f"{current} (current, no longer allowed)"))
                field = forms.ChoiceField(required=False, label=key, choices=choices)
            else:
                # Text, not a number input: the browser must not swallow a bad value before the service explains it.
                field = forms.CharField(required=False, label=key,
                                        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder":
                                                                      "cluster default"}))
            field.initial = initial.get(key, "")
            field.rule = rule
            self.fields[name] = field

    def config_values(self) -> dict[str, str]:
        """Only the configs the user filled in; an empty input means 'leave it to the cluster'."""
        values = {}
        for key in self.config_rules:
            raw = self.data.get(self.add_prefix(config_field_name(key)), "") if self.is_bound else ""
            if str(raw).strip():
                values[key] = str(raw).strip()
        return values

    def config_boundfields(self):
        return [self[config_field_name(key)] for key in self.config_rules]

    def add_service_errors(self, errors: dict[str, list[str]], *, skip_failed: bool = False) -> None:
        """Put a service's messages next to the fields they concern.

        Config messages start with the config key ('retention.ms: must be ...'), so they go beside
        that key's input. ``skip_failed`` keeps the parser's message when a field did not even parse.
        """
        for key, messages in errors.items():
            for message in messages:
                field = self._field_for(key, message)
                if skip_failed and field in self.errors and field != NON_FIELD_ERRORS:
                    continue
                self.add_error(field, message)

    def _field_for(self, key: str, message: str) -> str | None:
        key = self.service_fields.get(key, key)
        if key == "configs":
            config_key = message.split(":", 1)[0]
            if config_key in self.config_rules:
                return config_field_name(config_key)
            return None
        return key if key in self.fields else None


class DecisionForm(forms.Form):
    """Approve or reject (a change request, a subscription request) with an optional comment."""

    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
