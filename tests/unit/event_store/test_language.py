"""The event-store query language: what it accepts, and every refusal at the path of its cause."""

import datetime as dt

import pytest

from onboarding.event_store_query.language import MAX_DEPTH, MAX_LIMIT, QueryError, parse_query

PHI = {"value": {"patient.ssn": "phi", "visits[].code": "phi", "labels{}": "pii"}, "key": {"mrn": "phi"}}


def refused(body, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(QueryError) as exc:
        parse_query(body, **kwargs)
    return exc.value.errors


def test_a_whitelisted_filter_is_kept_as_given():
    body = {"filter": {"value.status": "paid", "value.amount": {"$gte": 10, "$lt": 99.5},
                       "$or": [{"value.ward": {"$in": ["A", "B"]}}, {"value.code": {"$regex": "^C1", "$options": "i"}}],
                       "key": {"$ne": None}, "partition": {"$nin": [3]}, "value.note": {"$exists": False}}}
    query = parse_query(body)
    assert query.filter == body["filter"]
    assert query.fields == ("key", "partition", "value.amount", "value.code", "value.note", "value.status",
                            "value.ward")
    assert (query.sort_field, query.descending, query.limit, query.projection) == ("timestamp", False, 50, None)


@pytest.mark.parametrize(("operator", "path"), [
    ("$where", "filter.value.status.$where"), ("$function", "filter.value.status.$function"),
    ("$accumulator", "filter.value.status.$accumulator"), ("$expr", "filter.value.status.$expr"),
    ("$elemMatch", "filter.value.status.$elemMatch"), ("$not", "filter.value.status.$not"),
])
def test_operators_outside_the_whitelist_are_refused_at_their_path(operator, path):
    errors = refused({"filter": {"value.status": {operator: "x"}}})
    assert list(errors) == [path]


@pytest.mark.parametrize("operator", ["$where", "$expr", "$function", "$accumulator", "$nor", "$text", "$comment"])
def test_top_level_operators_other_than_and_or_are_refused(operator):
    errors = refused({"filter": {operator: "sleep(1000)"}})
    assert list(errors) == [f"filter.{operator}"]
    if operator in ("$where", "$expr"):
        assert "runs code or expressions" in errors[f"filter.{operator}"][0]


def test_a_refusal_deep_in_or_and_names_its_index():
    errors = refused({"filter": {"$or": [{"value.a": 1}, {"$and": [{"value.b": {"$where": "1"}}]}]}})
    assert list(errors) == ["filter.$or[1].$and[0].value.b.$where"]


def test_unanchored_regexes_are_refused_and_anchored_ones_must_compile():
    assert "anchored" in refused({"filter": {"value.name": {"$regex": "smith"}}})["filter.value.name.$regex"][0]
    assert "valid regular" in refused({"filter": {"value.name": {"$regex": "^(a"}}})["filter.value.name.$regex"][0]
    assert list(refused({"filter": {"value.name": {"$regex": "^a", "$options": "s"}}})) == [
        "filter.value.name.$options"]


@pytest.mark.parametrize(("name", "path"), [
    ("$where", "filter.$where"), ("value.$where", "filter.value.$where"), ("value.a.$b", "filter.value.a.$b"),
    ("value..a", "filter.value..a"), ("value", "filter.value"), ("_id", "filter._id"), ("ts", "filter.ts"),
    ("timestamp", "filter.timestamp"), ("partition.x", "filter.partition.x"),
])
def test_field_names_are_checked(name, path):
    assert path in refused({"filter": {name: 1}})


def test_nesting_deeper_than_the_limit_is_refused():
    inner = {"value.a": 1}
    for _ in range(MAX_DEPTH + 1):
        inner = {"$and": [inner]}
    errors = refused({"filter": inner})
    assert any("Nested too deeply" in text for texts in errors.values() for text in texts)
    ok = {"value.a": 1}
    for _ in range(MAX_DEPTH):
        ok = {"$and": [ok]}
    parse_query({"filter": ok})


@pytest.mark.parametrize("value", [{"nested": 1}, [1, 2], float("inf")])
def test_only_scalars_are_compared(value):
    assert "filter.value.a" in refused({"filter": {"value.a": value}}) or \
        "filter.value.a.$eq" in refused({"filter": {"value.a": {"$eq": value}}})


def test_in_takes_a_list_and_exists_a_boolean():
    assert list(refused({"filter": {"value.a": {"$in": "A"}}})) == ["filter.value.a.$in"]
    assert list(refused({"filter": {"value.a": {"$exists": 1}}})) == ["filter.value.a.$exists"]


def test_sensitive_fields_cannot_be_filtered_or_sorted_on():
    for name in ("value.patient.ssn", "value.patient", "value.visits.code", "value.visits.0.code",
                 "value.labels.anything", "key.mrn"):
        errors = refused({"filter": {name: "x"}}, sensitive=PHI)
        assert "cannot be filtered or sorted on" in errors[f"filter.{name}"][0], name
    assert "PHI" in refused({"sort": "value.patient.ssn"}, sensitive=PHI, sortable=["value.patient.ssn"])["sort"][0]
    parse_query({"filter": {"value.patient.name": "x", "value.visits.ward": "3"}}, sensitive=PHI)


def test_time_range_from_iso_or_milliseconds():
    query = parse_query({"from": "2026-12-01T08:00:00Z", "to": 1_796_198_400_000})
    assert query.time_from == dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    assert query.time_to == dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC)
    assert parse_query({"from": "2026-12-01T08:00:00"}).time_from.tzinfo == dt.UTC
    assert list(refused({"from": "yesterday"})) == ["from"]
    assert list(refused({"from": "2026-12-02", "to": "2026-12-01"})) == ["to"]


def test_sort_is_by_time_or_an_indexed_field():
    assert parse_query({"sort": "-timestamp"}).descending
    query = parse_query({"sort": "value.ward"}, sortable=["value.ward"])
    assert (query.sort_field, query.descending) == ("value.ward", False)
    assert "indexed field: timestamp, value.ward" in refused({"sort": "value.name"}, sortable=["value.ward"])["sort"][0]


@pytest.mark.parametrize("limit", [0, MAX_LIMIT + 1, "many", True, 1.5])
def test_limit_is_1_to_500(limit):
    assert list(refused({"limit": limit})) == ["limit"]


def test_unknown_fields_and_bodies_are_refused():
    assert list(refused({"filter": {}, "where": "1"})) == ["where"]
    assert list(refused(["not", "an", "object"])) == ["non_field_errors"]
    assert list(refused({"filter": "status == paid"})) == ["filter"]


def test_every_problem_is_reported_at_once():
    errors = refused({"filter": {"value.a": {"$where": "1"}, "$expr": {}}, "limit": 0, "sort": "value.b"})
    assert set(errors) == {"filter.value.a.$where", "filter.$expr", "limit", "sort"}


def test_the_fingerprint_follows_filter_time_and_order_only():
    a = parse_query({"filter": {"value.a": 1}, "limit": 10})
    same = parse_query({"filter": {"value.a": 1}, "limit": 20, "projection": ["value.a"]})
    assert a.fingerprint() == same.fingerprint()
    assert a.fingerprint() != parse_query({"filter": {"value.a": 2}}).fingerprint()
    assert a.fingerprint() != parse_query({"filter": {"value.a": 1}, "sort": "-timestamp"}).fingerprint()
