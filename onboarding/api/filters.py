"""Query filters of the topic and schema lists (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from onboarding.models import ResourceStatus, Schema, SchemaFormat, Topic


class TopicFilter(django_filters.FilterSet):
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


class SchemaFilter(django_filters.FilterSet):
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
