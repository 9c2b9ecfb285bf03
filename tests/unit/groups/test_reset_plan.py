"""The offset-reset planner: new offsets and lag change per partition from what Kafka answered."""

from datetime import UTC, datetime, timedelta

import pytest

from onboarding.groups.lag_chart import MAX_SERIES, lag_chart
from onboarding.groups.plan import (
    PartitionState,
    PlanError,
    ResetSpec,
    changed_offsets,
    plan_reset,
    spec_errors,
    totals,
)

STATES = [PartitionState(1, committed=80, low=10, high=100, at_time=60),
          PartitionState(0, committed=50, low=0, high=50, at_time=None)]


def by_partition(plans):
    return {p.partition: p for p in plans}


def test_earliest_rewinds_every_partition_to_the_log_start_and_raises_lag_by_what_is_reread():
    plans = by_partition(plan_reset(ResetSpec("earliest"), STATES))
    assert (plans[0].new, plans[0].lag_before, plans[0].lag_after, plans[0].lag_delta) == (0, 0, 50, 50)
    assert (plans[1].new, plans[1].lag_before, plans[1].lag_after, plans[1].lag_delta) == (10, 20, 90, 70)


def test_latest_skips_to_the_end_so_lag_drops_to_zero():
    plans = by_partition(plan_reset(ResetSpec("latest"), STATES))
    assert [(p.new, p.lag_after, p.lag_delta) for p in plans.values()] == [(50, 0, 0), (100, 0, -20)]


def test_timestamp_takes_the_first_offset_at_the_time_and_the_end_where_nothing_is_that_new():
    plans = by_partition(plan_reset(ResetSpec("timestamp", timestamp_ms=1), STATES))
    assert plans[1].new == 60 and plans[1].lag_after == 40
    assert plans[0].new == 50 and "no event" in plans[0].note


def test_shift_moves_from_the_committed_offset_and_is_clamped_to_the_log():
    plans = by_partition(plan_reset(ResetSpec("shift", shift=-75), STATES))
    assert plans[1].new == 10 and "clamped to 10" in plans[1].note
    assert plans[0].new == 0
    forward = by_partition(plan_reset(ResetSpec("shift", shift=5), STATES))
    assert (forward[1].new, forward[0].new) == (85, 50)
    assert "clamped to 50" in forward[0].note


def test_shift_of_a_partition_never_committed_is_refused_with_the_partition():
    with pytest.raises(PlanError) as refused:
        plan_reset(ResetSpec("shift", shift=-1), [PartitionState(3, committed=None, low=0, high=9)])
    assert refused.value.field == "shift" and "Partition 3" in refused.value.message


def test_specific_offset_is_clamped_and_partitions_come_back_in_order():
    plans = plan_reset(ResetSpec("offset", offset=70), STATES)
    assert [(p.partition, p.new) for p in plans] == [(0, 50), (1, 70)]


def test_only_moved_partitions_are_sent_and_totals_sum_the_partitions():
    plans = plan_reset(ResetSpec("offset", offset=70), STATES)
    assert changed_offsets(plans) == {1: 70}
    assert totals(plans) == {"lag_before": 20, "lag_after": 30, "lag_delta": 10}


def test_a_group_that_never_committed_has_no_lag_before():
    plans = plan_reset(ResetSpec("earliest"), [PartitionState(0, committed=None, low=0, high=5)])
    assert plans[0].lag_before is None and plans[0].lag_delta is None
    assert changed_offsets(plans) == {0: 0}
    assert totals(plans)["lag_before"] is None


@pytest.mark.parametrize(("spec", "field"), [
    (ResetSpec("sideways"), "strategy"),
    (ResetSpec("timestamp"), "timestamp"),
    (ResetSpec("shift"), "shift"),
    (ResetSpec("shift", shift=0), "shift"),
    (ResetSpec("offset"), "offset"),
    (ResetSpec("offset", offset=-2), "offset"),
    (ResetSpec("offset", offset=2**63), "offset"),
    (ResetSpec("shift", shift=-(2**64)), "shift"),
])
def test_incomplete_requests_name_the_field(spec, field):
    assert field in spec_errors(spec)
    with pytest.raises(PlanError) as refused:
        plan_reset(spec, STATES)
    assert refused.value.field == field


def test_a_topic_without_partitions_cannot_be_planned():
    with pytest.raises(PlanError) as refused:
        plan_reset(ResetSpec("earliest"), [])
    assert refused.value.field == "topic"


def test_lag_chart_places_points_inside_the_plot_and_ranks_series_by_latest_lag():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    samples = {"a": [(start, 10), (start + timedelta(minutes=1), 0)],
               "b": [(start + timedelta(minutes=1), 40), (start, 20)]}
    chart = lag_chart(samples)
    assert [s.label for s in chart.series] == ["b", "a"]
    assert chart.max_lag == 40 and chart.point_count == 4
    for series in chart.series:
        for point in series.points.split():
            x, y = map(float, point.split(","))
            assert 0 <= x <= chart.width and 0 <= y <= chart.plot_bottom
    assert chart.series[0].points.split()[-1].endswith(",10.0")  # the highest lag is at the top


def test_lag_chart_without_samples_is_empty_and_caps_the_number_of_series():
    assert lag_chart({}).series == [] and lag_chart({"a": []}).point_count == 0
    now = datetime(2026, 1, 1, tzinfo=UTC)
    many = lag_chart({f"g{i}": [(now, i)] for i in range(MAX_SERIES + 2)})
    assert len(many.series) == MAX_SERIES and many.hidden == 2
