"""A definition's status from the engine's status table (docs/aggregations.md). Pure: no I/O.

Rows are keyed ``<definition id>@<instance>``; a row older than ``DEAD_AFTER_MS`` is a dead instance. For one
definition at its current version:

* **failed** when a live instance reports ERROR for the current version (with its error);
* **ready** when live instances run the current version, every one of them RUNNING, and none still runs an old
  version;
* **drifted** when no live instance runs the current version, or one still runs an old version, for longer than
  the grace period (measured from ``behind_since``, which the caller keeps);
* **waiting** otherwise (a new version starting, a rebalance): the caller keeps the status it had.

The metrics are summed over the live instances of the current version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DEAD_AFTER_MS = 60_000
READY, FAILED, DRIFTED, WAITING = "ready", "failed", "drifted", "waiting"
METRICS = ("records_in", "windows_emitted", "late_dropped", "late_dead_lettered", "lag")


@dataclass(frozen=True)
class InstanceRow:
    id: str
    instance: str
    version: int
    state: str
    error: str | None
    updated_ms: int
    metrics: Mapping[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"instance": self.instance, "version": self.version, "state": self.state, "error": self.error,
                "updated_ms": self.updated_ms, "metrics": dict(self.metrics)}


@dataclass
class Verdict:
    state: str
    reason: str = ""
    instances: list[InstanceRow] = field(default_factory=list)
    metrics: dict[str, int | None] = field(default_factory=dict)
    running_version: int | None = None


def parse(table: Mapping[str, bytes]) -> dict[str, list[InstanceRow]]:
    """Definition id -> its instances' rows; rows that are not the contract's JSON are skipped."""
    out: dict[str, list[InstanceRow]] = {}
    for key, value in table.items():
        try:
            data = json.loads(value)
            definition = str(data.get("id") or key.rsplit("@", 1)[0])
            row = InstanceRow(id=definition, instance=str(data.get("instance") or key.rsplit("@", 1)[-1]),
                              version=int(data["version"]), state=str(data.get("state") or ""),
                              error=data.get("error") or None, updated_ms=int(data.get("updated_ms") or 0),
                              metrics={name: _int(data.get("metrics", {}).get(name)) for name in METRICS})
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
        out.setdefault(row.id, []).append(row)
    return out


def _int(value) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def verdict(rows: Iterable[InstanceRow], *, version: int, now_ms: int, behind_since_ms: int | None,
            grace_ms: int) -> Verdict:
    live = sorted((row for row in rows if now_ms - row.updated_ms <= DEAD_AFTER_MS), key=lambda r: r.instance)
    current = [row for row in live if row.version == version]
    old = [row for row in live if row.version != version]
    result = Verdict(WAITING, instances=live, metrics=_summed(current),
                     running_version=version if current else (max(r.version for r in old) if old else None))
    errors = [row for row in current if row.state == "ERROR"]
    if errors:
        result.state = FAILED
        result.reason = f"{errors[0].instance}: {errors[0].error or 'the engine reports ERROR'}"
        return result
    if current and all(row.state == "RUNNING" for row in current) and not old:
        result.state = READY
        return result
    overdue = behind_since_ms is not None and now_ms - behind_since_ms > grace_ms
    if not current:
        result.reason = (f"No live engine instance runs version {version}"
                         + (f" (still running version {result.running_version})." if old else "."))
    elif old:
        result.reason = f"An engine instance still runs version {old[0].version} ({old[0].instance})."
    else:
        result.reason = "Engine instances are starting or rebalancing."
    if overdue and (not current or old):
        result.state = DRIFTED
    return result


def _summed(rows: list[InstanceRow]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in METRICS:
        values = [row.metrics.get(name) for row in rows if row.metrics.get(name) is not None]
        out[name] = sum(values) if values else (None if name == "lag" else 0)
    return out
