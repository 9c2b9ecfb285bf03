"""Make one cluster match the desired topics in Postgres: claim, describe, plan, apply, record.

One run per cluster handles every topic that is due, with one AdminClient, one describe and at
most one request per kind of action (create, alter configs, add partitions, delete).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from onboarding.models import ApplyAttempt, Cluster, ResourceStatus, Topic
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.reconcile.planner import DesiredTopic, plan

log = logging.getLogger(__name__)
DUE_STATUSES = [ResourceStatus.PENDING, ResourceStatus.FAILED, ResourceStatus.DELETING]


@dataclass
class RunReport:
    run_id: str
    claimed: int = 0
    ready: int = 0
    deleted: int = 0
    failed: int = 0
    retry_in: float | None = None
    errors: dict[str, str] = field(default_factory=dict)


def backoff_seconds(failures: int) -> float:
    """Exponential backoff: 2, 4, 8 ... seconds, capped (RECONCILE_MAX_BACKOFF_SECONDS)."""
    base = settings.RECONCILE_BACKOFF_BASE_SECONDS
    return float(min(settings.RECONCILE_MAX_BACKOFF_SECONDS, base * 2 ** max(0, failures - 1)))


def due_topics(cluster_id: int):
    """Work that a run should pick up now: new generations, retries whose backoff has passed, and
    claims left behind by a worker that died (older than the lease)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.RECONCILE_CLAIM_LEASE_SECONDS)
    unclaimed_due = Q(claim_token="") & Q(status__in=DUE_STATUSES) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = ~Q(claim_token="") & Q(claimed_at__lt=stale)
    return Topic.objects.filter(unclaimed_due | abandoned, cluster_id=cluster_id)


def claim(cluster_id: int, run_id: str) -> list[Topic]:
    """Take the due topics for this run. Rows locked by a concurrent run are skipped, so two workers
    never apply the same generation."""
    with transaction.atomic():
        ids = list(due_topics(cluster_id).select_for_update(skip_locked=True).values_list("id", flat=True))
        if not ids:
            return []
        Topic.objects.filter(id__in=ids).update(
            claim_token=run_id, claimed_at=timezone.now(), claimed_generation=F("generation"))
        Topic.objects.filter(id__in=ids).exclude(status=ResourceStatus.DELETING).update(
            status=ResourceStatus.APPLYING)
    return list(Topic.objects.filter(id__in=ids, claim_token=run_id))


def desired_of(topic: Topic) -> DesiredTopic:
    return DesiredTopic(topic.name, topic.partitions, topic.replication_factor, dict(topic.configs),
                        present=not topic.wants_deletion)


def reconcile_cluster(cluster_id: int) -> RunReport:
    report = RunReport(run_id=uuid.uuid4().hex)
    topics = claim(cluster_id, report.run_id)
    report.claimed = len(topics)
    if not topics:
        return report
    started, clock = timezone.now(), time.monotonic()
    cluster = Cluster.objects.get(pk=cluster_id)
    outcomes: dict[str, PlatformError | None] = {}
    actions: dict[str, list[str]] = {}
    try:
        admin = KafkaAdmin(kafka_connection_for(cluster))
        observed = admin.describe_topics(t.name for t in topics)
        the_plan = plan([desired_of(t) for t in topics], observed)
        for name, topic_plan in the_plan.topics.items():
            actions[name] = topic_plan.actions()
            if topic_plan.problems:
                outcomes[name] = PlatformError(" ".join(topic_plan.problems), retryable=False, code="impossible")
        for batch in (
            admin.create_topics(the_plan.creates),
            admin.alter_configs({n: c for n, c in the_plan.config_changes.items() if n not in outcomes}),
            admin.create_partitions({n: p for n, p in the_plan.partition_increases.items() if n not in outcomes}),
            admin.delete_topics(the_plan.deletes),
        ):
            for name, error in batch.items():
                outcomes[name] = outcomes.get(name) or error
        created = {t.name for t in the_plan.creates if outcomes.get(t.name) is None}
        deleted = {n for n in the_plan.deletes if outcomes.get(n) is None}
        if (created or deleted) and not admin.await_metadata(present=created, absent=deleted):
            log.warning("brokers' metadata did not show %d creates / %d deletes within 10 s", len(created),
                        len(deleted))
    except PlatformError as exc:
        outcomes = {t.name: exc for t in topics}
    duration_ms = int((time.monotonic() - clock) * 1000)
    _record(topics, outcomes, actions, report, started, duration_ms)
    return report


def _record(topics, outcomes, actions, report: RunReport, started, duration_ms: int) -> None:
    now = timezone.now()
    attempts, done, gone = [], [], []
    for topic in topics:
        error = outcomes.get(topic.name)
        if error is None:
            (gone if topic.wants_deletion else done).append(topic.id)
            outcome = ApplyAttempt.Outcome.READY
        else:
            outcome = ApplyAttempt.Outcome.FAILED if error.retryable else ApplyAttempt.Outcome.REFUSED
            _record_failure(topic, error, now, report)
        attempts.append(ApplyAttempt(topic=topic, generation=topic.claimed_generation,
                                     actions=actions.get(topic.name, []), outcome=outcome, error=str(error or ""),
                                     started_at=started, duration_ms=duration_ms, run_id=report.run_id))
    ApplyAttempt.objects.bulk_create(attempts)
    mine = Topic.objects.filter(claim_token=report.run_id)
    unchanged = Q(generation=F("claimed_generation"))
    report.ready = mine.filter(unchanged, id__in=done).update(
        status=ResourceStatus.READY, observed_generation=F("generation"), failures=0, next_attempt_at=None,
        last_error="", drift=None, observed=None, ready_at=now, claim_token="")
    report.deleted = mine.filter(unchanged, id__in=gone).update(
        status=ResourceStatus.DELETED, observed_generation=F("generation"), deleted_at=now, last_error="",
        failures=0, next_attempt_at=None, claim_token="")
    # Changed while we applied: leave it pending for the next run, which is queued below.
    changed = mine.filter(id__in=done + gone).update(claim_token="")
    if changed:
        report.retry_in = 0.0


def _record_failure(topic: Topic, error: PlatformError, now, report: RunReport) -> None:
    failures = topic.failures + 1
    delay = backoff_seconds(failures) if error.retryable else settings.RECONCILE_MAX_BACKOFF_SECONDS
    status = ResourceStatus.DELETING if topic.wants_deletion else ResourceStatus.FAILED
    mine = Topic.objects.filter(pk=topic.pk, claim_token=report.run_id)
    if mine.exclude(generation=F("claimed_generation")).update(claim_token=""):
        report.retry_in = 0.0  # a newer generation arrived meanwhile: apply that instead
        return
    updated = mine.update(
        status=status, failures=failures, next_attempt_at=now + timedelta(seconds=delay), last_error=str(error),
        claim_token="")
    if updated:
        report.failed += 1
        report.errors[topic.name] = str(error)
        if error.retryable:
            report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
