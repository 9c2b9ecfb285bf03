"""The traffic tab's figures from the kept samples: rates between samples, and the totals of the last hour."""

from datetime import UTC, datetime, timedelta

from onboarding.selectors.topic_traffic import rates_of, totals_of

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def at(minutes_ago: int) -> datetime:
    return NOW - timedelta(minutes=minutes_ago)


def test_rates_are_events_per_minute_between_samples_and_a_recreated_topic_counts_as_none():
    samples = [(at(4), 100, None), (at(3), 160, None), (at(1), 260, None), (at(0), 5, None)]

    assert rates_of(samples) == [(at(3), 60), (at(1), 50), (at(0), 0)]
    assert rates_of(samples[:1]) == [] and rates_of([]) == []


def test_totals_count_the_hour_from_its_first_sample_and_the_event_size_from_the_growth():
    samples = [(at(90), 0, 0), (at(50), 1_000, 200_000), (at(20), 1_500, 300_000), (at(0), 3_000, 600_000)]

    totals = totals_of(samples, NOW)

    assert (totals["end_offset"], totals["last_sampled"], totals["last_hour"]) == (3_000, at(0), 2_000)
    assert (totals["size_bytes"], totals["event_bytes"]) == (600_000, 200)


def test_no_event_size_without_sizes_or_when_retention_shrank_the_topic():
    unsized = [(at(30), 0, None), (at(0), 100, None)]
    shrunk = [(at(30), 0, 900), (at(0), 100, 500)]
    idle = [(at(30), 100, 500), (at(0), 100, 500)]

    assert totals_of(unsized, NOW)["event_bytes"] is None and totals_of(unsized, NOW)["size_bytes"] is None
    assert totals_of(shrunk, NOW)["event_bytes"] is None
    assert (totals_of(idle, NOW)["last_hour"], totals_of(idle, NOW)["event_bytes"]) == (0, None)
    assert totals_of([], NOW) == {"samples": False}
