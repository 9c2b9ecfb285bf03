"""The offset-reset planner: what a reset would set per partition and how the lag would change.

Pure: it takes what Kafka answered (committed offsets, low and high watermarks, the offsets for a timestamp)
and the reset the team asked for, and returns the new offsets. The service asks Kafka, this decides, so the
dry run and the apply compute the same numbers from the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

EARLIEST, LATEST, TIMESTAMP, SHIFT, OFFSET = "earliest", "latest", "timestamp", "shift", "offset"
STRATEGIES = (EARLIEST, LATEST, TIMESTAMP, SHIFT, OFFSET)
# Kafka's offsets and timestamps are signed 64-bit numbers; anything larger cannot be stored or sent.
LARGEST = 2**63 - 1


class PlanError(ValueError):
    """The reset cannot be planned as asked; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PartitionState:
    """What Kafka holds for one partition: the group's committed offset (None: never committed), the log's
    first and next offsets, and for a timestamp reset the first offset at or after it (None: nothing newer)."""

    partition: int
    committed: int | None
    low: int
    high: int
    at_time: int | None = None


@dataclass(frozen=True)
class ResetSpec:
    strategy: str
    timestamp_ms: int | None = None
    shift: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class PartitionPlan:
    partition: int
    current: int | None
    new: int
    lag_before: int | None
    lag_after: int
    # Why the new offset is not exactly what was asked ("clamped to the log's start"), else empty.
    note: str = ""

    @property
    def lag_delta(self) -> int | None:
        return None if self.lag_before is None else self.lag_after - self.lag_before

    def as_dict(self) -> dict:
        return {"partition": self.partition, "current": self.current, "new": self.new,
                "lag_before": self.lag_before, "lag_after": self.lag_after, "lag_delta": self.lag_delta,
                "note": self.note}


def spec_errors(spec: ResetSpec) -> dict[str, str]:
    """What is missing or wrong in the request itself, per field."""
    if spec.strategy not in STRATEGIES:
        return {"strategy": f"Choose one of {', '.join(STRATEGIES)}."}
    needs = {TIMESTAMP: ("timestamp", spec.timestamp_ms), SHIFT: ("shift", spec.shift),
             OFFSET: ("offset", spec.offset)}
    if spec.strategy in needs:
        field, value = needs[spec.strategy]
        if value is None:
            return {field: f"A reset to a {spec.strategy} needs the {field}."}
        if spec.strategy == SHIFT and value == 0:
            return {"shift": "A shift by 0 changes nothing: give a positive or negative number of events."}
        if spec.strategy in (OFFSET, TIMESTAMP) and value < 0:
            return {field: f"The {field} cannot be negative."}
        if abs(value) > LARGEST:
            return {field: f"The {field} is larger than any Kafka offset or time."}
    return {}


def _clamp(wanted: int, low: int, high: int) -> tuple[int, str]:
    if wanted < low:
        return low, f"{wanted} is before the log's start: clamped to {low}"
    if wanted > high:
        return high, f"{wanted} is past the log's end: clamped to {high}"
    return wanted, ""


def _target(spec: ResetSpec, state: PartitionState) -> tuple[int, str]:
    if spec.strategy == EARLIEST:
        return state.low, ""
    if spec.strategy == LATEST:
        return state.high, ""
    if spec.strategy == TIMESTAMP:
        if state.at_time is None:
            return state.high, "no event at or after the time: set to the end"
        return _clamp(state.at_time, state.low, state.high)
    if spec.strategy == SHIFT:
        if state.committed is None:
            raise PlanError("shift", f"Partition {state.partition} has no committed offset to shift from: "
                                     "reset it to earliest, latest, a time or an offset instead.")
        return _clamp(state.committed + spec.shift, state.low, state.high)
    return _clamp(spec.offset, state.low, state.high)


def plan_reset(spec: ResetSpec, states: list[PartitionState]) -> list[PartitionPlan]:
    """The new offset and lag per partition, in partition order; PlanError when it cannot be planned."""
    if errors := spec_errors(spec):
        field, message = next(iter(errors.items()))
        raise PlanError(field, message)
    if not states:
        raise PlanError("topic", "The topic has no partitions on the cluster.")
    plans = []
    for state in sorted(states, key=lambda s: s.partition):
        new, note = _target(spec, state)
        lag_before = None if state.committed is None else max(0, state.high - state.committed)
        plans.append(PartitionPlan(state.partition, state.committed, new, lag_before, state.high - new, note))
    return plans


def changed_offsets(plans: list[PartitionPlan]) -> dict[int, int]:
    """Partition -> new offset, for the partitions whose offset moves (what is sent to Kafka)."""
    return {p.partition: p.new for p in plans if p.new != p.current}


def totals(plans: list[PartitionPlan]) -> dict:
    """The whole topic's lag before and after (before is None when no partition was ever committed)."""
    befores = [p.lag_before for p in plans if p.lag_before is not None]
    after = sum(p.lag_after for p in plans)
    before = sum(befores) if befores else None
    return {"lag_before": before, "lag_after": after, "lag_delta": None if before is None else after - before}
