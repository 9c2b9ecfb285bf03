"""Browser forms for subscriptions and service accounts: they shape input, the services decide.

As in ``onboarding.forms.topics``, nothing here repeats a service rule; a service's ValidationError is put
back next to the field it names, with the service's own text.
"""

from __future__ import annotations

import json

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import Cluster, ResourceStatus, ServiceAccount, Subscription, Team, Topic
from onboarding.selectors import writable_teams_of

CODE = {"class": "code", "spellcheck": "false", "autocomplete": "off"}


def live_accounts():
    return ServiceAccount.objects.exclude(status=ResourceStatus.DELETED).filter(delete_requested_at__isnull=True)


def live_topics():
    return Topic.objects.exclude(status=ResourceStatus.DELETED).filter(delete_requested_at__isnull=True)


class SubscribeForm(ServiceErrorsForm):
    """Ask for a topic's events for one of the user's other teams."""

    subscriber = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None, label="Subscriber team")
    service_account = forms.ModelChoiceField(queryset=ServiceAccount.objects.none(), required=False,
                                             empty_label="— choose —", label="Service account")
    mode = forms.ChoiceField(choices=Subscription.Mode.choices, initial=Subscription.Mode.DIRECT,
                             widget=forms.RadioSelect)
    destination = forms.ModelChoiceField(queryset=Topic.objects.none(), required=False,
                                         empty_label="— a new topic (name below) —", label="Destination topic")
    destination_name = forms.CharField(required=False, label="New destination name",
                                       widget=forms.TextInput(attrs={**CODE, "class": "mono"}))
    filter = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 4}))
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="The topic's owners read it when they decide.")

    def __init__(self, data=None, *, user, topic: Topic, initial=None):
        super().__init__(data, initial=initial)
        self.topic = topic
        teams = writable_teams_of(user).exclude(pk=topic.team_id).order_by("slug")
        self.fields["subscriber"].queryset = teams
        self.team_obj = self._chosen_team(teams)
        team_ids = [self.team_obj.pk] if self.team_obj else teams.values("pk")
        self.fields["service_account"].queryset = (
            live_accounts().filter(team_id__in=team_ids, cluster_id=topic.cluster_id).select_related("team"))
        self.fields["destination"].queryset = (
            live_topics().filter(team_id__in=team_ids, cluster_id=topic.cluster_id).exclude(pk=topic.pk)
            .order_by("name"))

    def _chosen_team(self, teams) -> Team | None:
        raw = self.data.get("subscriber") if self.is_bound else self.initial.get("subscriber")
        if raw:
            chosen = teams.filter(pk=raw).first() if str(raw).isdigit() else None
            if chosen:
                return chosen
        return teams.first()

    def request_kwargs(self) -> dict:
        data = self.cleaned_data
        routed = data["mode"] == Subscription.Mode.ROUTED
        return {
            "subscriber": data["subscriber"], "source": self.topic, "service_account": data["service_account"],
            "mode": data["mode"], "reason": data["reason"], "filter": data["filter"] if routed else "",
            "destination": data["destination"] if routed else None,
            "destination_name": data["destination_name"] if routed else "",
        }


class FilterEditForm(ServiceErrorsForm):
    filter = forms.CharField(required=False, widget=forms.Textarea(attrs={**CODE, "rows": 5}))


class FilterTestForm(forms.Form):
    """The "Test this filter" box: the filter, a sample event (its value, JSON) and optional headers."""

    filter = forms.CharField(required=False)
    event = forms.CharField(required=False, label="Sample event (JSON)",
                            widget=forms.Textarea(attrs={**CODE, "rows": 5}))
    headers = forms.CharField(required=False, label="Headers (JSON object, optional)",
                              widget=forms.Textarea(attrs={**CODE, "rows": 2}))

    def clean_event(self):
        event = self.cleaned_data["event"]
        if not event.strip():
            raise forms.ValidationError("Paste a sample event (the value, as JSON) to test the filter on.")
        return event

    def clean_headers(self):
        text = self.cleaned_data["headers"].strip()
        if not text:
            return None
        try:
            headers = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"The headers are not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
        if not isinstance(headers, dict):
            raise forms.ValidationError("The headers must be a JSON object of names to text.")
        return headers


class ServiceAccountCreateForm(ServiceErrorsForm):
    cluster = forms.ModelChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={**CODE, "class": "mono"}),
                           help_text="Lowercase letters, digits and '-'; the user name is <team>.<name>.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    can_consume_own_topics = forms.BooleanField(
        required=False, initial=True, label="May consume the team's own topics",
        help_text="READ on the team's topics, e.g. the destinations of routed subscriptions. Clear it for an "
                  "account that only produces.")

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["cluster"].queryset = Cluster.objects.filter(is_active=True).order_by("order", "name")
