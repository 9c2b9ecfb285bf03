"""The query filters of the topic, schema and subscription lists (django-filter): one filterset per list,
used by the API (``filterset_class``) and the browser pages alike, so a filter means the same in both.

How the pages draw their filters (selects with the values that exist) is presentation, in
``forms/filtersets.py``; what a filter selects is decided here only.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q

from onboarding.models import Aggregation, Membership, ResourceStatus, Schema, SchemaFormat, Subscription, Topic
from onboarding.permissions import is_operator


class TopicFilterSet(django_filters.FilterSet):
    """``?team=<slug>&cluster=<name>&status=<status>&tag=<tag>&visibility=<v>&q=<text>``."""

    team = django_filters.CharFilter(field_name="team__slug", help_text="Owning team's slug.")
    cluster = django_filters.CharFilter(field_name="cluster__name", help_text="Cluster name.")
    status = django_filters.ChoiceFilter(choices=ResourceStatus.choices,
                                         help_text="Deleted topics are listed only when asked for.")
    tag = django_filters.CharFilter(field_name="tags", lookup_expr="contains", method="filter_tag",
                                    help_text="Topics carrying this tag.")
    visibility = django_filters.ChoiceFilter(choices=Topic.Visibility.choices)
    q = django_filters.CharFilter(method="filter_text", help_text="Words in the name or the description.")

    class Meta:
        model = Topic
        fields = ["team", "cluster", "status", "tag", "visibility", "q"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value])

    def filter_text(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word))
        return queryset


class SchemaFilterSet(django_filters.FilterSet):
    """``?topic=<id>&team=<slug>&format=<format>&status=<status>&side=<side>``."""

    topic = django_filters.NumberFilter(field_name="topic_id", help_text="The topic's id.")
    team = django_filters.CharFilter(field_name="topic__team__slug", help_text="Owning team's slug.")
    format = django_filters.ChoiceFilter(choices=SchemaFormat.choices)
    status = django_filters.ChoiceFilter(choices=ResourceStatus.choices,
                                         help_text="Deleted schemas are listed only when asked for.")
    side = django_filters.ChoiceFilter(choices=Schema.Side.choices)

    class Meta:
        model = Schema
        fields = ["topic", "team", "format", "status", "side"]


class SubscriptionFilterSet(django_filters.FilterSet):
    """``?team=<slug>&side=subscriber|source&decision=<decision>&mode=<mode>``.

    ``team`` alone matches either side; with ``side`` only that side. ``side`` alone means the
    side on which one of your teams is.
    """

    team = django_filters.CharFilter(method="filter_side", help_text="A team's slug, on either side.")
    side = django_filters.ChoiceFilter(choices=[("subscriber", "Subscriber"), ("source", "Source")],
                                       method="filter_side",
                                       help_text="subscriber: what the team subscribes to; source: who subscribes "
                                                 "to the team's topics.")
    decision = django_filters.ChoiceFilter(choices=Subscription.Decision.choices)
    mode = django_filters.ChoiceFilter(choices=Subscription.Mode.choices)

    class Meta:
        model = Subscription
        fields = ["team", "side", "decision", "mode"]

    def filter_side(self, queryset, name, value):
        # team and side combine, so both are applied once, in filter_queryset.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        team, side = self.form.cleaned_data.get("team"), self.form.cleaned_data.get("side")
        if team:
            subscriber, source = Q(subscriber__slug=team), Q(source__team__slug=team)
        elif side and not is_operator(self.request.user):
            teams = Membership.objects.filter(user=self.request.user).values("team_id")
            subscriber, source = Q(subscriber_id__in=teams), Q(source__team_id__in=teams)
        else:
            return queryset
        if side == "subscriber":
            return queryset.filter(subscriber)
        if side == "source":
            return queryset.filter(source)
        return queryset.filter(subscriber | source)


class AggregationFilterSet(django_filters.FilterSet):
    """``?team=<slug>&cluster=<name>&source=<topic id>&status=<status>&window_type=<type>&q=<text>``."""

    team = django_filters.CharFilter(field_name="team__slug", help_text="Owning team's slug.")
    cluster = django_filters.CharFilter(field_name="cluster__name", help_text="Cluster name.")
    source = django_filters.NumberFilter(field_name="source_id", help_text="Id of the source topic.")
    status = django_filters.ChoiceFilter(choices=ResourceStatus.choices,
                                         help_text="Deleted aggregations are listed only when asked for.")
    window_type = django_filters.ChoiceFilter(choices=Aggregation.WindowType.choices)
    q = django_filters.CharFilter(method="filter_text", help_text="Words in the name or the description.")

    class Meta:
        model = Aggregation
        fields = ["team", "cluster", "source", "status", "window_type", "q"]

    def filter_text(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(Q(name__icontains=word) | Q(description__icontains=word))
        return queryset
