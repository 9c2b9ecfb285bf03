"""The pure rules of an aggregation definition: durations, windows, measures and simple field paths."""

import pytest

from onboarding.aggregation_rules import (
    DURATION_HINT,
    DurationError,
    Window,
    format_duration,
    normalize_measures,
    parse_duration,
    value_field_path,
    window_errors,
)


@pytest.mark.parametrize(("text", "ms"), [
    ("15m", 900_000), ("1h", 3_600_000), ("30s", 30_000), ("500ms", 500), ("2d", 172_800_000),
    ("60000", 60_000), (" 1H ", 3_600_000), (0, 0), (90_000, 90_000), (1_000.0, 1_000), ("0", 0),
    (None, None), ("", None), ("  ", None),
])
def test_durations_are_read_as_milliseconds(text, ms):
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["ten", "1.5h", "-1", "1w", "h", "15 minutes", True, [1], {"h": 1}, 1.5, "1h30m"])
def test_other_spellings_are_refused_with_the_hint(text):
    with pytest.raises(DurationError) as exc:
        parse_duration(text)
    assert str(exc.value) == DURATION_HINT


def test_negative_and_huge_durations_are_refused():
    with pytest.raises(DurationError, match="negative"):
        parse_duration(-5)
    with pytest.raises(DurationError, match="366 days"):
        parse_duration("367d")
    assert parse_duration("366d") == 366 * 86_400_000


@pytest.mark.parametrize("ms", [1, 999, 1_000, 61_000, 900_000, 3_600_000, 5_400_000, 86_400_000, 90_061_001])
def test_a_formatted_duration_reads_back(ms):
    assert parse_duration(format_duration(ms)) == ms


def test_formatting_takes_the_largest_exact_unit():
    assert [format_duration(v) for v in (3_600_000, 5_400_000, 1_500, 0, None)] == ["1h", "90m", "1500ms", "0ms", ""]


@pytest.mark.parametrize(("window", "errors"), [
    (Window("tumbling", 60_000, None, None, 0), set()),
    (Window("tumbling", None, None, None, 0), {"size"}),
    (Window("tumbling", 0, None, None, 0), {"size"}),
    (Window("tumbling", 60_000, 30_000, None, 0), {"advance"}),
    (Window("hopping", 60_000, 60_000, None, 0), set()),
    (Window("hopping", 60_000, 60_001, None, 0), {"advance"}),
    (Window("hopping", 60_000, None, None, 0), {"advance"}),
    (Window("sliding", 60_000, None, None, 5_000), set()),
    (Window("sliding", 60_000, None, 10, 0), {"gap"}),
    (Window("session", None, None, 300_000, 0), set()),
    (Window("session", None, None, 0, 0), {"gap"}),
    (Window("session", 60_000, None, 300_000, 0), {"size"}),
    (Window("tumbling", 60_000, None, None, -1), {"grace"}),
    (Window("weekly", 60_000, None, None, 0), {"window_type"}),
])
def test_each_window_type_needs_its_own_fields(window, errors):
    assert set(window_errors(window)) == errors


def test_measures_are_normalised_for_the_engine():
    measures, problems = normalize_measures([
        {"name": "claims", "op": "count"}, {"name": "total", "op": "sum", "field": " value.amount "},
        {"name": "last_seen", "op": "last", "field": "value.at"}])
    assert problems == []
    assert measures == [{"name": "claims", "op": "count"}, {"name": "total", "op": "sum", "field": "value.amount"},
                        {"name": "last_seen", "op": "last", "field": "value.at"}]


@pytest.mark.parametrize(("measures", "words"), [
    ([], "at least one"),
    ("count", "must be a list"),
    ([{"name": "a", "op": "count"}, {"name": "a", "op": "count"}], "unique"),
    ([{"name": "2a", "op": "count"}], "identifier"),
    ([{"name": "a-b", "op": "count"}], "identifier"),
    ([{"name": "group", "op": "count"}], "already a property"),
    ([{"name": "window_end", "op": "count"}], "already a property"),
    ([{"name": "a", "op": "median", "field": "value.x"}], "unknown op"),
    ([{"name": "a", "op": "avg"}], "needs a field"),
    ([{"name": "a", "op": "count", "field": "value.x"}], "takes no field"),
    ([{"name": "a", "op": "sum", "field": "value.["}], "column"),
    ([{"name": "a", "op": "count", "colour": "red"}], "unknown keys colour"),
    (["count"], "Measure 1"),
    ([{"name": "a", "op": "sum", "field": 5}], "needs a field"),
])
def test_measure_mistakes_name_the_measure(measures, words):
    _, problems = normalize_measures(measures)
    assert problems and words in " ".join(problems), problems


def test_too_many_measures_are_refused():
    _, problems = normalize_measures([{"name": f"m{i}", "op": "count"} for i in range(51)])
    assert problems == ["At most 50 measures."]


@pytest.mark.parametrize(("expression", "path"), [
    ("value.amount", "amount"), ("value.patient.id", "patient.id"), (" value.a_b ", "a_b"),
    ("value", None), ("key", None), ("headers.source", None), ("value.items[0]", None),
    ("to_number(value.amount)", None), ("value.\"odd name\"", None), ("", None), (None, None),
])
def test_only_simple_value_paths_map_to_schema_fields(expression, path):
    assert value_field_path(expression) == path
