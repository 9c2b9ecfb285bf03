"""A bounded, time-ordered query read hour by hour: which hour buckets a page reads, in which order, and the hour
bucket the backfill gives a document (the one the sink's EventDocument.hourOf writes)."""

import datetime as dt

from onboarding.event_store_query.documents import SINK, hour_of
from onboarding.event_store_query.find import find_of, hours_of, in_hour
from onboarding.event_store_query.language import parse_query
from onboarding.reconcile.event_store_backfill import copies_of, missing_filter

UTC = dt.UTC


def test_the_hour_bucket_is_the_utc_hour_with_its_first_and_last_microsecond():
    assert hour_of(dt.datetime(2026, 1, 1, 5, 0, tzinfo=UTC)) == "2026-01-01T05"
    assert hour_of(dt.datetime(2026, 1, 1, 5, 59, 59, 999_999, tzinfo=UTC)) == "2026-01-01T05"
    assert hour_of(dt.datetime(2026, 1, 1, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == "2026-01-01T05"
    assert hour_of(dt.datetime(2026, 1, 1, 5, 30)) == "2026-01-01T05"  # naive: UTC, as the store hands it back


def test_a_range_reads_its_hours_in_the_querys_order_the_end_being_exclusive():
    newest = parse_query({"from": "2026-01-01T05:20:00Z", "to": "2026-01-01T08:00:00Z", "sort": "-timestamp"})
    oldest = parse_query({"from": "2026-01-01T05:20:00Z", "to": "2026-01-01T08:00:01Z"})

    assert hours_of(newest) == ["2026-01-01T07", "2026-01-01T06", "2026-01-01T05"]
    assert hours_of(oldest) == ["2026-01-01T05", "2026-01-01T06", "2026-01-01T07", "2026-01-01T08"]


def test_a_next_page_starts_at_its_cursors_hour():
    newest = parse_query({"from": "2026-01-01T05:00:00Z", "to": "2026-01-01T09:00:00Z", "sort": "-timestamp"})
    oldest = parse_query({"from": "2026-01-01T05:00:00Z", "to": "2026-01-01T09:00:00Z", "sort": "timestamp"})
    after = (dt.datetime(2026, 1, 1, 6, 59), "t#0#7")  # naive UTC, as a cursor decodes it

    assert hours_of(newest, after) == ["2026-01-01T06", "2026-01-01T05"]
    assert hours_of(oldest, after) == ["2026-01-01T06", "2026-01-01T07", "2026-01-01T08"]


def test_open_long_or_not_time_ordered_queries_are_read_with_one_find():
    assert hours_of(parse_query({"from": "2026-01-01T05:00:00Z"})) == []
    assert hours_of(parse_query({"to": "2026-01-01T05:00:00Z"})) == []
    assert hours_of(parse_query({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"})) != []
    assert hours_of(parse_query({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:01Z"})) == []
    by_ward = parse_query({"from": "2026-01-01T05:00:00Z", "to": "2026-01-01T06:00:00Z", "sort": "value.ward"},
                          sortable=["value.ward"])
    assert hours_of(by_ward) == []


def test_an_hours_find_is_the_pages_find_with_an_equality_on_the_hour_at_the_top():
    query = parse_query({"filter": {"value.ward": "W1"}, "from": "2026-01-01T05:00:00Z",
                         "to": "2026-01-01T06:00:00Z", "limit": 10})
    find = find_of(query, SINK)

    one = in_hour(find, SINK, "2026-01-01T05", limit=3)

    assert one.filter == {**find.filter, "_h": "2026-01-01T05"} and one.limit == 3
    assert (one.sort, one.projection) == (find.sort, find.projection)


def test_the_backfill_gives_a_document_without_its_hour_the_hour_of_its_time():
    copies = {"value.ward": "_i:value:ward", "_ts": "_h"}
    moment = dt.datetime(2026, 1, 1, 5, 42)

    assert copies_of({"_ts": moment, "value": {"ward": "W1"}}, copies) == {"_i:value:ward": "W1",
                                                                            "_h": "2026-01-01T05"}
    assert copies_of({"_ts": moment, "_h": "2026-01-01T05", "value": {}}, copies) == {}
    assert copies_of({"value": {}}, copies) == {}  # no time, no hour
    assert missing_filter({"_ts": "_h"}) == {"_h": {"$exists": False}, "_ts": {"$exists": True}}
