"""The topic list's search and filters (django-filter), over the topics the user may see."""

from __future__ import annotations

import django_filters
from django.db.models import F, Func, Q

from onboarding.models import Cluster, ResourceStatus, Team, Topic

# What the topic table shows (partials/_topic_table.html): the page loads only these, not the reconciler's
# JSON columns (observed state, drift, configs); the team's slug and the cluster's name come as annotations.
TABLE_COLUMNS = ("name", "description", "visibility", "partitions", "replication_factor", "tags", "status")


class TopicFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    # Plain choices filled in __init__, not model choices: a model choice field counts its rows and then reads
    # them through a server-side cursor, four round trips for two short lists on every keystroke's request.
    team = django_filters.ChoiceFilter(field_name="team__slug", label="Team", empty_label="All teams")
    cluster = django_filters.ChoiceFilter(field_name="cluster__name", label="Cluster", empty_label="All clusters")
    status = django_filters.ChoiceFilter(choices=ResourceStatus.choices, empty_label="Any status")
    tag = django_filters.ChoiceFilter(method="with_tag", label="Tag", empty_label="Any tag")

    class Meta:
        model = Topic
        fields = ["q", "team", "cluster", "status", "tag"]

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        # Offer only tags that exist on topics this user can see: others would always give nothing.
        tags = (queryset.order_by().annotate(tag=Func("tags", function="unnest")).values_list("tag", flat=True)
                .distinct())
        self.filters["tag"].extra["choices"] = [(t, t) for t in sorted(set(tags))]
        self.filters["team"].extra["choices"] = [(slug, slug) for slug in Team.objects.values_list("slug", flat=True)]
        clusters = Cluster.objects.values_list("name", "environment")
        self.filters["cluster"].extra["choices"] = [(name, f"{name} ({environment})") for name, environment in clusters]

    def table_rows(self):
        """The filtered topics in the table's order, with the table's columns only: one model per row
        (select_related would build a team and a cluster for each, most of the page's cost after the SQL)."""
        return (self.qs.select_related(None).only(*TABLE_COLUMNS)
                .annotate(team_slug=F("team__slug"), cluster_name=F("cluster__name")).order_by("name", "pk"))

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def with_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value])
