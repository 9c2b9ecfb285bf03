"""The engine's status back in the portal: beat task ``onboarding.aggregations_status`` reads each cluster's
status table (AGGREGATIONS_STATUS_TOPIC) and sets every applied definition's status (ready, failed with the
engine's error, drifted; ``aggregations_status_plan``) and its latest metrics (``AggregationRuntime``).

Only definitions whose row is written (``observed_generation == generation``, no claim) are judged; a definition
with work outstanding belongs to the aggregations run. Every update is conditional on the generation read, so a
change saved meanwhile is never overwritten. A failure reported by the engine waits the longest backoff before the
reconciler looks at it again (rewriting an unchanged row cannot help; a new version can). A table that cannot be
read leaves everything as it is until the next run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from onboarding.models import Aggregation, AggregationRuntime, Cluster, ResourceStatus
from onboarding.platform import PlatformError
from onboarding.platform.compacted import read_compacted
from onboarding.platform.connection import kafka_connection_for
from onboarding.reconcile import aggregations_status_plan as status_plan

log = logging.getLogger(__name__)
JUDGED = [ResourceStatus.APPLYING, ResourceStatus.READY, ResourceStatus.DRIFTED, ResourceStatus.FAILED]


@dataclass
class StatusReport:
    checked: int = 0
    changed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def applied_aggregations(cluster_id: int):
    return (Aggregation.objects.filter(cluster_id=cluster_id, claim_token="", status__in=JUDGED,
                                       observed_generation=F("generation"), delete_requested_at__isnull=True)
            .select_related("team"))


def status_topic() -> str:
    return settings.AGGREGATIONS_STATUS_TOPIC


def refresh(*, cluster_id: int | None = None, now_ms: int | None = None) -> StatusReport:
    report = StatusReport()
    clusters = Cluster.objects.filter(is_active=True)
    if cluster_id is not None:
        clusters = clusters.filter(pk=cluster_id)
    for cluster in clusters:
        aggs = list(applied_aggregations(cluster.pk))
        if not aggs:
            continue
        try:
            table = read_compacted(kafka_connection_for(cluster), status_topic(), timeout=15)
        except PlatformError as exc:
            if exc.code != "UNKNOWN_TOPIC_OR_PART":
                log.warning("aggregation status of cluster %s not read: %s", cluster.name, exc)
                report.errors[cluster.name] = str(exc)
                continue
            table = {}  # no engine has written yet: every definition is waiting
        rows = status_plan.parse(table)
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        for agg in aggs:
            report.checked += 1
            state = _apply(agg, rows.get(agg.definition_id, []), now)
            if state:
                report.changed[agg.definition_id] = state
    return report


def _apply(agg: Aggregation, rows, now_ms: int) -> str | None:
    runtime, _ = AggregationRuntime.objects.get_or_create(aggregation=agg)
    behind_since_ms = int(runtime.behind_since.timestamp() * 1000) if runtime.behind_since else None
    grace_ms = settings.AGGREGATIONS_DRIFT_GRACE_SECONDS * 1000
    verdict = status_plan.verdict(rows, version=agg.version, now_ms=now_ms, behind_since_ms=behind_since_ms,
                                  grace_ms=grace_ms)
    now = _at(now_ms)
    runtime.state = verdict.state
    runtime.running_version = verdict.running_version
    runtime.instances = [row.as_dict() for row in verdict.instances]
    for name, value in verdict.metrics.items():
        if name == "lag" or value is not None:
            setattr(runtime, name, value)
    newest = max((row.updated_ms for row in verdict.instances), default=None)
    runtime.reported_at = _at(newest) if newest else runtime.reported_at
    runtime.behind_since = None if verdict.state == status_plan.READY else (runtime.behind_since or now)
    runtime.save()
    unchanged = Aggregation.objects.filter(pk=agg.pk, generation=agg.generation, claim_token="")
    if verdict.state == status_plan.READY and agg.status != ResourceStatus.READY:
        unchanged.update(status=ResourceStatus.READY, ready_at=now, last_error="", drift=None, failures=0,
                         next_attempt_at=None)
    elif verdict.state == status_plan.FAILED and (agg.status != ResourceStatus.FAILED
                                                 or agg.last_error != verdict.reason):
        unchanged.update(status=ResourceStatus.FAILED, last_error=verdict.reason, next_attempt_at=now + timedelta(
            seconds=settings.RECONCILE_MAX_BACKOFF_SECONDS))
    elif verdict.state == status_plan.DRIFTED and (agg.status != ResourceStatus.DRIFTED
                                                  or agg.last_error != verdict.reason):
        unchanged.update(status=ResourceStatus.DRIFTED, last_error=verdict.reason,
                         drift={"engine": verdict.reason, "running_version": verdict.running_version})
    else:
        return None
    log.info("aggregation %s: %s %s", agg.definition_id, verdict.state, verdict.reason)
    return verdict.state


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else timezone.now()
