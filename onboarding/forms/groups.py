"""The "Reset offsets" form of a group page: it only shapes input; the service says what is wrong."""

from __future__ import annotations

from datetime import UTC

from django import forms

from onboarding.forms.base import ServiceErrorsForm
from onboarding.models import OffsetReset, Subscription, Topic
from onboarding.services.groups import ResetRequest


def readable_topics(team, cluster):
    """The topics the team's groups may read on the cluster: its own and its approved direct subscriptions'."""
    subscribed = Subscription.objects.filter(subscriber=team, mode=Subscription.Mode.DIRECT,
                                             decision=Subscription.Decision.APPROVED).values("source_id")
    return (Topic.objects.filter(cluster=cluster).exclude(status="deleted")
            .filter(team=team) | Topic.objects.filter(cluster=cluster, pk__in=subscribed).exclude(status="deleted")
            ).order_by("name")


class OffsetResetForm(ServiceErrorsForm):
    topic = forms.ModelChoiceField(queryset=Topic.objects.none(), empty_label=None)
    strategy = forms.ChoiceField(choices=OffsetReset.Strategy.choices, widget=forms.RadioSelect,
                                 initial=OffsetReset.Strategy.EARLIEST)
    timestamp = forms.DateTimeField(required=False, label="Time (UTC)",
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
                                    input_formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"])
    shift = forms.IntegerField(required=False, label="Shift by (events, negative rereads)")
    offset = forms.IntegerField(required=False, label="Offset")
    partitions = forms.CharField(required=False, label="Partitions", help_text="Comma-separated; empty means all.")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, team, cluster, topic_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topic_choices if topic_choices is not None else readable_topics(team, cluster)

    def clean_partitions(self) -> tuple[int, ...]:
        text = self.cleaned_data.get("partitions") or ""
        try:
            return tuple(sorted({int(part) for part in text.replace(" ", "").split(",") if part}))
        except ValueError:
            raise forms.ValidationError("Give partition numbers separated by commas, e.g. 0,2.") from None

    def reset_request(self) -> ResetRequest:
        data = self.cleaned_data
        timestamp = data.get("timestamp")
        if timestamp is not None:
            timestamp = timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp.astimezone(UTC)
        return ResetRequest(data["strategy"], timestamp, data.get("shift"), data.get("offset"),
                            data.get("partitions") or ())
