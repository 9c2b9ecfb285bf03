"""A query of a topic's stored events, and one page of its results.

The request serializer documents the body for the OpenAPI schema only: the query language itself
(``onboarding.event_store_query.language``) checks it, so the API and the page give the same error texts."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from onboarding.event_store_query.language import DEFAULT_LIMIT, MAX_LIMIT


@extend_schema_field(OpenApiTypes.OBJECT)
class _Filter(serializers.JSONField):
    pass


@extend_schema_field(OpenApiTypes.STR)
class _Time(serializers.JSONField):
    pass


class EventStoreQuerySerializer(serializers.Serializer):
    filter = _Filter(required=False, help_text=(
        "MongoDB-style conditions on value.<field>, key, key.<field>, partition and offset: a value (equality) or "
        "an object of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $regex (anchored: ^...) with $options "
        "\"i\"; $and and $or take lists of such filters (4 levels at most). Anything else is refused at its path, "
        "e.g. filter.value.status.$where. Fields tagged sensitive cannot be filtered on."))
    # "from" is a keyword in Python: the field is declared under another name and renamed below.
    from_ = _Time(required=False, help_text="Events at or after this time: ISO 8601 or milliseconds since the epoch.")
    to = _Time(required=False, help_text="Events before this time.")
    sort = serializers.CharField(required=False, help_text=(
        "timestamp (default) or an indexed field; -field for descending order."))
    projection = serializers.ListField(child=serializers.CharField(), required=False,
                                       help_text="Value fields to return (the metadata always comes).")
    limit = serializers.IntegerField(required=False, help_text=f"1 to {MAX_LIMIT} events (default {DEFAULT_LIMIT}).")
    cursor = serializers.CharField(required=False, help_text="next_cursor of the previous page, for the next one.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class StoredEventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="<topic>#<partition>#<offset> (the record key for a table binding).")
    partition = serializers.IntegerField(allow_null=True)
    offset = serializers.IntegerField(allow_null=True)
    timestamp = serializers.DateTimeField(allow_null=True)
    key = serializers.JSONField(allow_null=True, help_text="Sensitive fields masked.")
    value = serializers.JSONField(allow_null=True, help_text="The decoded event; sensitive fields masked.")


class EventStoreResultSerializer(serializers.Serializer):
    topic = serializers.CharField(source="topic.name")
    count = serializers.SerializerMethodField()
    events = StoredEventSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as cursor for the next page; null: last.")
    masked = serializers.DictField(child=serializers.DictField(child=serializers.CharField()),
                                   help_text="Per side (key, value): the masked paths and their classification.")
    sortable = serializers.ListField(child=serializers.CharField(), help_text="Fields a query may sort on.")

    def get_count(self, result) -> int:
        return len(result.events)
