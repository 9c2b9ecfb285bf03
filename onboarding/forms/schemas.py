"""Browser forms of the schema pages: they only shape input; the schema services decide.

Format and compatibility are plain text fields behind a select, so an unknown value reaches the
service and the page shows the service's own message (the same text as the API).
"""

from __future__ import annotations

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import Compatibility, Schema, SchemaFormat, TopicPolicy

# Bounds on what a browser sends: a request body above DATA_UPLOAD_MAX_MEMORY_SIZE (1 MB) is refused by
# Django before any view runs, and URL-encoding can triple JSON text, so the editor stays well below it.
MAX_SCHEMA_CHARS = 200_000
MAX_EVENT_CHARS = 100_000
MAX_NOTE_CHARS = 500


def _code_area(rows: int, max_chars: int, placeholder: str = "") -> forms.Textarea:
    return forms.Textarea(attrs={"class": "code", "rows": rows, "spellcheck": "false", "autocomplete": "off",
                                 "autocapitalize": "off", "maxlength": max_chars, "placeholder": placeholder,
                                 "wrap": "off"})


def compatibility_choices(policy: TopicPolicy) -> list[tuple[str, str]]:
    """Every mode, the forbidden ones labelled: the service refuses them with the policy's reason."""
    forbidden = set(policy.forbidden_compatibilities or [])
    return [(value, f"{value} (not allowed here)" if value in forbidden else value) for value in Compatibility.values]


class SchemaEditorForm(ServiceErrorsForm):
    """A proposed version: checked by the "Check" button, stored by "Submit version"."""

    format = forms.CharField(required=False, widget=forms.Select(choices=SchemaFormat.choices))
    compatibility = forms.CharField(required=False, label="Compatibility mode")
    text = forms.CharField(required=False, strip=False, max_length=MAX_SCHEMA_CHARS, label="Schema",
                           widget=_code_area(20, MAX_SCHEMA_CHARS, "Paste or write the schema here"))
    note = forms.CharField(required=False, max_length=MAX_NOTE_CHARS, label="Note",
                           widget=forms.TextInput(attrs={"placeholder": "What changes and why (optional)"}))

    def __init__(self, data=None, *, schema: Schema | None, policy: TopicPolicy, initial: dict | None = None):
        latest = schema.versions.order_by("-number").first() if schema else None
        super().__init__(data, initial={
            "format": schema.format if schema else SchemaFormat.AVRO,
            "compatibility": policy.default_compatibility,
            "text": latest.text if latest else "",
            **(initial or {}),
        })
        self.schema = schema
        if schema:
            # The subject's format is fixed and its mode has its own form; a new version changes neither.
            self.fields["format"].disabled = True
            del self.fields["compatibility"]
        else:
            self.fields["compatibility"].widget = forms.Select(choices=compatibility_choices(policy))

    def clean_text(self) -> str:
        # Browsers send a textarea's line breaks as CRLF; the stored schema keeps plain newlines.
        return self.cleaned_data["text"].replace("\r\n", "\n")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"fmt": (data.get("format") or "").strip().upper(), "text": data.get("text", ""),
                "compatibility": (data.get("compatibility") or "").strip() or None}


class CompatibilityForm(ServiceErrorsForm):
    compatibility = forms.CharField(label="Compatibility mode")

    def __init__(self, data=None, *, schema: Schema, policy: TopicPolicy):
        super().__init__(data, initial={"compatibility": schema.compatibility})
        self.fields["compatibility"].widget = forms.Select(choices=compatibility_choices(policy))


class EventForm(forms.Form):
    """An example event to try against a version (the latest unless one is chosen)."""

    event = forms.CharField(required=False, strip=False, max_length=MAX_EVENT_CHARS, label="Event (JSON)",
                            widget=_code_area(8, MAX_EVENT_CHARS, '{"field": "value"}'))
    version = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Against version")

    def __init__(self, data=None, *, numbers: list[int]):
        super().__init__(data)
        self.fields["version"].choices = [("", "latest")] + [(n, f"v{n}") for n in sorted(numbers, reverse=True)]


class CompareForm(forms.Form):
    """Two versions to compare; out-of-range numbers are the service's to report."""

    old = forms.IntegerField(label="From", min_value=1, max_value=2**31 - 1)
    new = forms.IntegerField(label="To", min_value=1, max_value=2**31 - 1)
