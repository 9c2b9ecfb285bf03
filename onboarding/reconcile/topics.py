"""Make one cluster match the desired topics in Postgres: claim, describe, plan, apply, record.

One run per cluster handles every topic that is due, with one AdminClient, one describe and at
most one request per kind of action (create, alter configs, add partitions, delete).
"""

from __future__ import annotations

import logging
import time
import uuid

from django.utils import timezone

from onboarding.models import ApplyAttempt, Cluster, Topic
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.reconcile import claims
from onboarding.reconcile.claims import DUE_STATUSES, RunReport, backoff_seconds
from onboarding.reconcile.topics_plan import DesiredTopic, plan

log = logging.getLogger(__name__)
__all__ = ["DUE_STATUSES", "RunReport", "backoff_seconds", "claim", "due_topics", "reconcile_cluster"]


def due_topics(cluster_id: int):
    """The cluster's topics that a run should pick up now (see claims.due)."""
    return claims.due(Topic.objects.filter(cluster_id=cluster_id))


def claim(cluster_id: int, run_id: str) -> list[Topic]:
    return claims.claim(due_topics(cluster_id), run_id)


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
    claims.settle(Topic, report, done=done, gone=gone, now=now)


def _record_failure(topic: Topic, error: PlatformError, now, report: RunReport) -> None:
    claims.record_failure(Topic, topic, error, now, report, key=topic.name)
