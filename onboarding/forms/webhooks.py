"""Browser forms for webhooks and e-mail recipients: they shape input, the services decide.

Event checkboxes accept any submitted name, so an unknown one reaches the service and gets the same
message as in the API.
"""

from __future__ import annotations

import re

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models.notifications import SUBSCRIBABLE_EVENTS, NotificationEvent

EVENT_CHOICES = [(value, NotificationEvent(value).label) for value in SUBSCRIBABLE_EVENTS]


class ServiceCheckedChoices(forms.MultipleChoiceField):
    """Checkboxes whose values the service validates (with its own wording)."""

    def valid_value(self, value) -> bool:
        return True


class WebhookCreateForm(ServiceErrorsForm):
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    url = forms.CharField(required=False, label="URL", widget=forms.TextInput(
        attrs={"class": "mono", "spellcheck": "false", "autocomplete": "off",
               "placeholder": "https://hooks.example.org/portal"}))
    events = ServiceCheckedChoices(required=False, choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)


class NotificationEmailsForm(ServiceErrorsForm):
    notification_emails = forms.CharField(
        required=False, label="E-mail recipients", widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One address per line (or comma-separated). Each gets an e-mail for every event of the team.")

    def addresses(self) -> list[str]:
        return [part for part in re.split(r"[\s,;]+", self.cleaned_data["notification_emails"]) if part]
