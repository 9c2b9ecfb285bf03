"""The history filters, read from query parameters the same way by pages, exports and the API."""

from __future__ import annotations

from django import forms

from onboarding.errors import NotFound
from onboarding.history.selectors import EVENTS, RESOURCE_TYPES, TrailFilter
from onboarding.models import Team


class TrailFilterForm(forms.Form):
    """Date range (``until`` is exclusive; a bare date means midnight UTC), actor and kind of resource."""

    since = forms.DateTimeField(required=False)
    until = forms.DateTimeField(required=False)
    actor = forms.CharField(required=False, max_length=150, help_text="User name")
    resource_type = forms.ChoiceField(required=False, label="Object type",
                                      choices=[("", "Any"), *((name, name) for name in sorted(RESOURCE_TYPES))])
    event = forms.ChoiceField(required=False, label="What happened", choices=[("", "Anything"), *EVENTS.items()])
    action = forms.RegexField(required=False, max_length=40, regex=r"^[a-z_]+(\.[a-z_]+)*$", label="Action",
                              help_text="A service's action, e.g. topic.update",
                              error_messages={"invalid": "An action looks like topic.update."})

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            self.add_error("until", "Must be later than 'since'.")
        return data

    def trail_filter(self, **fixed) -> TrailFilter:
        data = self.cleaned_data
        return TrailFilter(since=data.get("since"), until=data.get("until"), actor=data.get("actor") or "",
                           resource_type=data.get("resource_type") or "", event=data.get("event") or "",
                           action=data.get("action") or "", **fixed)


class ApiTrailFilterForm(TrailFilterForm):
    """The API's filters add a team (by slug) and one resource's id."""

    team = forms.SlugField(required=False)
    resource_id = forms.RegexField(required=False, regex=r"^[0-9]{1,19}$",
                                   error_messages={"invalid": "A resource id is a number."})

    def clean(self):
        data = super().clean()
        if data.get("resource_id") and not data.get("resource_type"):
            self.add_error("resource_id", "Give resource_type with resource_id.")
        return data

    def trail_filter(self, **fixed) -> TrailFilter:
        """An unknown team is a NotFound, like a team the reader may not see: neither is revealed."""
        slug = self.cleaned_data.get("team")
        team = Team.objects.filter(slug=slug).first() if slug else None
        if slug and team is None:
            raise NotFound("No such team.")
        return super().trail_filter(team=team, resource_id=self.cleaned_data.get("resource_id") or "", **fixed)
