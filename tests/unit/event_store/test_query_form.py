"""The query page's filter rows as the API's query body, so the page and the API share one set of checks."""

from django.http import QueryDict

from onboarding.views.event_store_query import form_rows, query_body


def test_rows_become_the_filter_and_values_read_as_json_when_they_are():
    data = QueryDict(mutable=True)
    data.update({"field_0": "value.ward", "op_0": "$eq", "value_0": "ICU", "field_1": "value.age", "op_1": "$gte",
                 "value_1": "18", "field_2": "value.age", "op_2": "$lt", "value_2": "65", "field_3": "value.code",
                 "op_3": "$in", "value_3": "A1, 7, \"7\"", "field_4": "", "op_4": "$eq", "value_4": "",
                 "field_5": "value.id", "op_5": "$regex", "value_5": "^10", "from": "2026-12-01T08:00",
                 "sort": "-timestamp", "limit": "20"})

    body = query_body(data, form_rows(data))

    assert body == {"filter": {"value.ward": {"$eq": "ICU"}, "value.age": {"$gte": 18, "$lt": 65},
                               "value.code": {"$in": ["A1", 7, "7"]}, "value.id": {"$regex": "^10"}},
                    "from": "2026-12-01T08:00", "sort": "-timestamp", "limit": "20"}
