"""Indexed fields are queried on their top-level copies (what the store's indexes are on); users still name them
as a result shows them (value.ward), and every other field keeps its nested path."""

import datetime as dt

from onboarding.event_store_query.documents import SINK
from onboarding.event_store_query.find import find_of
from onboarding.event_store_query.language import parse_query

WARD = ("value.ward", "_i:value:ward")
MEMBER = ("value.member.id", "_i:value:member:id")
SHAPE = SINK.with_copies([WARD, MEMBER])


def test_a_filter_on_an_indexed_field_reads_its_copy_and_stays_a_top_level_equality():
    query = parse_query({"filter": {"value.ward": "W42", "value.status": "paid"},
                         "from": "2026-12-01T00:00:00Z", "sort": "-timestamp"})
    find = find_of(query, SHAPE)
    # Top level, not under $and: FerretDB hands only a filter document's own equalities to Postgres.
    assert find.filter == {"_i:value:ward": "W42", "value.status": "paid",
                           "_ts": {"$gte": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)}}
    assert find.sort == [("_ts", -1), ("_id", -1)]


def test_copies_are_used_inside_or_and_with_operators():
    query = parse_query({"filter": {"$or": [{"value.member.id": {"$in": [1, 2]}}, {"value.ward": {"$gte": "W5"}}],
                                    "value.member.name": "x"}})
    assert find_of(query, SHAPE).filter == {
        "$or": [{"_i:value:member:id": {"$in": [1, 2]}}, {"_i:value:ward": {"$gte": "W5"}}],
        "value.member.name": "x"}


def test_a_path_under_or_beside_an_indexed_field_keeps_its_nested_path():
    query = parse_query({"filter": {"value.ward.floor": 2, "value.member": {"$exists": True}, "key": "k"}})
    assert find_of(query, SHAPE).filter == {"value.ward.floor": 2, "value.member": {"$exists": True}, "_key": "k"}


def test_a_sort_on_an_indexed_field_and_its_next_page_use_the_copy():
    query = parse_query({"sort": "-value.ward", "projection": ["value.status"]}, sortable=["value.ward"])
    find = find_of(query, SHAPE, after=("W3", "t#0#7"))
    assert find.sort == [("_i:value:ward", -1), ("_id", -1)]
    assert find.filter == {"_i:value:ward": {"$exists": True, "$ne": None},
                           "$or": [{"_i:value:ward": {"$lt": "W3"}}, {"_i:value:ward": "W3", "_id": {"$lt": "t#0#7"}}]}
    # The copy comes back for the next page's cursor; the result still shows the value as it was written.
    assert "_i:value:ward" in find.projection and "value.status" in find.projection


def test_without_copies_every_field_keeps_its_nested_path():
    query = parse_query({"filter": {"value.ward": "W42"}})
    assert find_of(query, SINK).filter == {"value.ward": "W42"}


def test_a_result_is_built_from_the_value_never_from_the_copies():
    document = {"_id": "t#0#1", "_ts": dt.datetime(2026, 12, 1), "_partition": 0, "_offset": 1, "_key": "k",
                "value": {"ward": "W1"}, "_i:value:ward": "W1"}
    assert SHAPE.event(document)["value"] == {"ward": "W1"}
