"""The catalogue search's query parameters and answer (GET /api/v1/search/)."""

from __future__ import annotations

from rest_framework import serializers

from onboarding.models import Topic
from onboarding.search import MAX_PAGE_SIZE


class SearchParamsSerializer(serializers.Serializer):
    """Query parameters besides the repeatable facet choices (team, environment, tag, format)."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="",
                              help_text="Words, a topic name (typos tolerated) or a field's name or documentation.")
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=25)


class SearchTopicSerializer(serializers.ModelSerializer):
    """The topic of a hit, compact: enough to show it and to follow its url."""

    url = serializers.HyperlinkedIdentityField(view_name="api:topic-detail")
    team = serializers.CharField(source="team.slug", read_only=True, help_text="Owning team's slug.")
    team_name = serializers.CharField(source="team.name", read_only=True)
    cluster = serializers.CharField(source="cluster.name", read_only=True)
    environment = serializers.CharField(source="cluster.environment", read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Topic
        fields = ["id", "url", "name", "team", "team_name", "cluster", "environment", "description", "tags",
                  "visibility", "status"]
        read_only_fields = fields


class MatchedFieldSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Where the field sits, e.g. patient.birth_date or visits[].code.")
    name = serializers.CharField()
    type = serializers.CharField()
    doc = serializers.CharField(help_text="The field's documentation (Avro doc, JSON Schema title/description).")


class SearchHitSerializer(serializers.Serializer):
    topic = SearchTopicSerializer()
    score = serializers.FloatField(allow_null=True, help_text="Relevance, higher first; null without a query.")
    matched_fields = MatchedFieldSerializer(source="fields", many=True,
                                            help_text="Up to three schema fields that matched the query.")
    produced_by = serializers.CharField(allow_null=True, help_text="The aggregation (<team>.<name>) whose results "
                                                                   "the topic holds, or null.")


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What to pass back in the facet's parameter.")
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Matching topics with this value.")
    selected = serializers.BooleanField()


class FacetsSerializer(serializers.Serializer):
    team = FacetValueSerializer(many=True)
    environment = FacetValueSerializer(many=True)
    tag = FacetValueSerializer(many=True)
    format = FacetValueSerializer(many=True)


class SearchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Matching topics in all pages.")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    next = serializers.CharField(allow_null=True, help_text="URL of the next page, or null.")
    previous = serializers.CharField(allow_null=True, help_text="URL of the previous page, or null.")
    results = SearchHitSerializer(many=True)
    facets = FacetsSerializer(help_text="Counts over every matching topic, commonest first.")
