"""A checked query as a MongoDB find over the sink's documents, and the signed cursors of its pages."""

import datetime as dt

import pytest

from onboarding.event_store_query import cursor
from onboarding.event_store_query.documents import SINK
from onboarding.event_store_query.find import find_of
from onboarding.event_store_query.language import parse_query

KEY = "a test key for cursors, long enough to be one"


def test_names_become_the_sinks_paths_and_the_time_range_a_condition():
    query = parse_query({"filter": {"value.status": "paid", "$or": [{"key": "k1"}, {"partition": 2}]},
                         "from": "2026-12-01T00:00:00Z", "limit": 10})
    find = find_of(query, SINK)
    assert find.filter == {"value.status": "paid", "$or": [{"_key": "k1"}, {"_partition": 2}],
                           "_ts": {"$gte": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)}}
    assert find.sort == [("_ts", 1), ("_id", 1)]
    assert find.limit == 11  # one more tells whether there is a next page
    assert find.projection is None


def test_a_page_after_a_cursor_continues_after_the_last_pair():
    query = parse_query({"sort": "-value.ward"}, sortable=["value.ward"])
    find = find_of(query, SINK, after=("B", "t#0#7"))
    assert find.filter == {"value.ward": {"$exists": True, "$ne": None},
                           "$or": [{"value.ward": {"$lt": "B"}}, {"value.ward": "B", "_id": {"$lt": "t#0#7"}}]}
    assert find.sort == [("value.ward", -1), ("_id", -1)]


def test_parts_naming_the_same_field_stay_apart_under_and():
    # The filter's own $or and the cursor's $or, and a filter on the time beside the range: both must hold.
    query = parse_query({"filter": {"$or": [{"value.a": 1}, {"value.b": 2}], "key": "k1"},
                         "from": "2026-12-01T00:00:00Z"})
    find = find_of(query, SINK, after=(dt.datetime(2026, 12, 2), "t#0#7"))
    moment = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert find.filter == {
        "$or": [{"value.a": 1}, {"value.b": 2}], "_key": "k1", "_ts": {"$gte": moment},
        "$and": [{"$or": [{"_ts": {"$gt": dt.datetime(2026, 12, 2)}},
                          {"_ts": dt.datetime(2026, 12, 2), "_id": {"$gt": "t#0#7"}}]}]}


def test_a_projection_keeps_the_metadata_and_drops_paths_under_others():
    find = find_of(parse_query({"projection": ["value.a", "value.a.b", "key.x"]}), SINK)
    assert find.projection == {"_id": 1, "_key": 1, "_offset": 1, "_partition": 1, "_ts": 1, "value.a": 1}


def test_a_document_becomes_a_result():
    stamp = dt.datetime(2026, 12, 1, 8, 0)
    assert SINK.event({"_id": "t#1#5", "_ts": stamp, "_key": "k", "_partition": 1, "_offset": 5,
                       "value": {"a": 1}}) == {"id": "t#1#5", "partition": 1, "offset": 5,
                                               "timestamp": stamp.replace(tzinfo=dt.UTC), "key": "k",
                                               "value": {"a": 1}}


def test_a_cursor_round_trips_for_its_own_topic_and_query_only():
    moment = dt.datetime(2026, 12, 1, 8, 0, 0, 123000, tzinfo=dt.UTC)
    token = cursor.sign(KEY, topic_id=7, fingerprint="q1", sort_value=moment, document_id="t#0#3")
    value, document_id = cursor.verify(KEY, token, topic_id=7, fingerprint="q1")
    assert (value, document_id) == (moment.replace(tzinfo=None), "t#0#3")
    with pytest.raises(cursor.CursorError, match="another topic"):
        cursor.verify(KEY, token, topic_id=8, fingerprint="q1")
    with pytest.raises(cursor.CursorError, match="another query"):
        cursor.verify(KEY, token, topic_id=7, fingerprint="q2")
    with pytest.raises(cursor.CursorError, match="altered"):
        cursor.verify("another key entirely, also long enough", token, topic_id=7, fingerprint="q1")
    with pytest.raises(cursor.CursorError, match="altered"):
        cursor.verify(KEY, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), topic_id=7, fingerprint="q1")
    with pytest.raises(cursor.CursorError, match="Not a cursor"):
        cursor.verify(KEY, "", topic_id=7, fingerprint="q1")
