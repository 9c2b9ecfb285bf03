"""Make one cluster's aggregation definitions table match the portal (docs/aggregations.md). Claim, apply,
record, like the other runs; task ``onboarding.reconcile_aggregations``.

For each claimed live definition the run makes sure the output topic and its dead-letter topic exist (the output
as its portal topic row wants it, which the topic run also applies; the dead-letter topic with as many partitions
as the source and the cluster policy's replication factor), registers the output value's JSON Schema under
``<output>-value`` (the latest version of the output's portal Schema, the same text the schema run registers, its
tags derived from the source's sensitive fields) and keeps the id on the row.
Then, under a per-cluster advisory lock, it reads the table back and writes what differs: the claimed rows, any
applied row the table lost, tombstones for definitions that are gone. A definition whose new row could not be
prepared keeps the row the engine runs. The run also creates the engine's status table (the engine's principal
may write it, not create it). The engine principal's rights are widened before the write and
narrowed after it (``aggregator_access``).

A written row leaves the definition ``applying``: it is ``ready`` once the engine reports the version running
(the status task, ``reconcile/aggregations_status.py``). A failure is recorded on the row with backoff; nothing
saved is lost, since the desired state stays in Postgres and the next run (or the sweep) writes it.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from onboarding.models import Aggregation, Cluster, ResourceStatus, Schema, TopicPolicy
from onboarding.models.classification import classification_of, masked_paths
from onboarding.platform import PlatformError
from onboarding.platform.compacted import COMPACTED, read_compacted
from onboarding.platform.connection import kafka_connection_for, registry_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.registry import Registry
from onboarding.platform.types import DesiredTopic
from onboarding.reconcile import aggregations_plan as plan
from onboarding.reconcile import aggregator_access, claims, principals
from onboarding.reconcile.claims import RunReport

log = logging.getLogger(__name__)
LOCK_CLASS = zlib.crc32(b"onboarding.aggregations-table") & 0x7FFFFFFF  # advisory lock's first key; cluster id second
SCHEMA_FORMAT = "JSON"


def definitions_topic() -> str:
    return settings.AGGREGATIONS_TOPIC


def status_topic() -> str:
    return settings.AGGREGATIONS_STATUS_TOPIC


def due_aggregations(cluster_id: int):
    return claims.due(Aggregation.objects.filter(cluster_id=cluster_id))


def live_aggregations(cluster_id: int):
    return Aggregation.objects.filter(cluster_id=cluster_id, delete_requested_at__isnull=True).exclude(
        status=ResourceStatus.DELETED)


def row_of(agg: Aggregation) -> bytes:
    return plan.encode(plan.table_row(plan.Spec.of(agg), version=agg.version, output_schema_id=agg.output_schema_id,
                                      prefix=settings.AGGREGATOR_APPLICATION_PREFIX))


def output_tags_of(agg: Aggregation) -> dict[str, str]:
    """Output field -> classification, from the source's own and inherited tags (as peek masks them)."""
    return plan.output_tags(plan.Spec.of(agg), masked_paths(classification_of(agg.source)))


def output_schema_text(agg: Aggregation) -> str:
    """What to register under ``<output>-value``: the latest version of the output topic's value schema, which
    the aggregation services keep in step with the definition (the same text the schema run registers, so both
    get the same id); generated here for a definition saved before outputs were portal topics."""
    if agg.output_id is not None:
        text = (Schema.objects.filter(topic_id=agg.output_id, side=Schema.Side.VALUE)
                .exclude(status=ResourceStatus.DELETED).values_list("versions__text", flat=True)
                .order_by("-versions__number").first())
        if text:
            return text
    return plan.schema_text(plan.output_schema(plan.Spec.of(agg), tags=output_tags_of(agg)))


def _desired_output(agg: Aggregation, partitions: int, factor: int) -> DesiredTopic:
    """The output as its portal topic wants it when there is one (so the topic run, whichever comes first, finds
    what it would have created), else partitioned like the source."""
    if agg.output is not None:
        return DesiredTopic(agg.output.name, agg.output.partitions, agg.output.replication_factor,
                            dict(agg.output.configs))
    return DesiredTopic(agg.output_topic, partitions, factor, {})


def reconcile_aggregations(cluster_id: int) -> RunReport:
    report = RunReport(run_id=uuid.uuid4().hex)
    claimed = claims.claim(due_aggregations(cluster_id), report.run_id, related=("team", "source", "cluster", "output"))
    report.claimed = len(claimed)
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return report
    errors: dict[int, PlatformError] = {}
    try:
        admin = KafkaAcls(kafka_connection_for(cluster))
        live = [agg for agg in claimed if not agg.wants_deletion]
        _ensure_topics(admin, cluster, live, errors)
        _register_schemas(cluster, [agg for agg in live if agg.pk not in errors], report.run_id, errors)
        principal = principals.widen(aggregator_access.PRINCIPAL, report, cluster, admin)
        _sync_table(admin, cluster, claimed, report.run_id, errors)
        principals.narrow(aggregator_access.PRINCIPAL, report, cluster, principal)
    except PlatformError as exc:
        log.warning("aggregations of cluster %s not applied: %s", cluster.pk, exc)
        for agg in claimed:
            errors.setdefault(agg.pk, exc)
        if not claimed:  # the table alone failed (nothing claimed to carry the error): try again
            report.errors["aggregations-table"] = str(exc)
            report.retry_in = claims.backoff_seconds(1)
    _record(claimed, errors, report)
    return report


def _replication_factor(cluster: Cluster, admin: KafkaAcls) -> int:
    policy = TopicPolicy.objects.filter(cluster=cluster).first()
    wanted = policy.default_replication_factor if policy else 1
    return max(1, min(wanted, admin.ping()))


def _ensure_topics(admin: KafkaAcls, cluster: Cluster, aggs: list[Aggregation], errors: dict) -> None:
    """Create missing output and dead-letter topics, partitioned like their source; the table topic too."""
    existing = admin.list_topic_names()
    factor = None
    creates: dict[str, DesiredTopic] = {}
    # Both tables are the portal's to create: the engine's principal may read and write them, never create them.
    for table in (definitions_topic(), status_topic()):
        if table not in existing:
            factor = factor or _replication_factor(cluster, admin)
            creates[table] = DesiredTopic(table, 1, factor, COMPACTED)
    wanted_by: dict[str, list[Aggregation]] = {}
    missing_sources = {agg.source.name for agg in aggs} - existing
    sources = admin.describe_topics(sorted({agg.source.name for agg in aggs} - missing_sources)) if aggs else {}
    for agg in aggs:
        source = sources.get(agg.source.name)
        if source is None:
            errors[agg.pk] = PlatformError(f"The source topic {agg.source.name} is not on the cluster (yet).",
                                           retryable=True, code="source_missing")
            continue
        for name in (agg.output_topic, agg.dead_letter_topic):
            if name in existing:
                continue
            factor = factor or _replication_factor(cluster, admin)
            desired = (_desired_output(agg, source.partitions, factor) if name == agg.output_topic
                       else DesiredTopic(name, source.partitions, factor, {}))
            creates.setdefault(name, desired)
            wanted_by.setdefault(name, []).append(agg)
    if not creates:
        return
    created = admin.create_topics(list(creates.values()))
    for table in (definitions_topic(), status_topic()):
        if created.get(table):
            raise created[table]
    for name, aggs_of_topic in wanted_by.items():
        if created.get(name) is not None:
            for agg in aggs_of_topic:
                errors.setdefault(agg.pk, created[name])
    admin.await_metadata(present={name for name, error in created.items() if error is None}, absent=set())


def _register_schemas(cluster: Cluster, aggs: list[Aggregation], run_id: str, errors: dict) -> None:
    """Register each output schema (idempotent: the same text is the same id) and keep its id on the row."""
    if not aggs:
        return
    with Registry(registry_connection_for(cluster)) as registry:
        for agg in aggs:
            try:
                schema_id = registry.register(f"{agg.output_topic}-value", output_schema_text(agg), SCHEMA_FORMAT)
            except PlatformError as exc:
                errors[agg.pk] = _explained(exc, agg)
                continue
            agg.output_schema_id = schema_id
            Aggregation.objects.filter(pk=agg.pk, claim_token=run_id).update(output_schema_id=schema_id)


def _explained(error: PlatformError, agg: Aggregation) -> PlatformError:
    """A refused output schema in words the team can act on (a new version shapes results differently)."""
    if error.code != "incompatible":
        return error
    return PlatformError(f"Version {agg.version} writes results the earlier versions' readers of {agg.output_topic} "
                         f"cannot read (a measure removed or its type changed), so the registry refuses its schema. "
                         f"Choose a new output topic, or ask an operator to relax the compatibility of "
                         f"{agg.output_topic}-value. ({error})", retryable=False, code="incompatible")


def desired_rows(cluster_id: int, claimed: list[Aggregation], errors: dict) -> tuple[dict[str, bytes], set[str]]:
    """(rows wanted, keys to leave as they are). Claimed definitions as claimed (their prepared row, or kept when
    preparing failed); others as last applied, or kept while they have work outstanding."""
    mine = {agg.pk: agg for agg in claimed}
    wanted: dict[str, bytes] = {}
    keep: set[str] = set()
    for agg in live_aggregations(cluster_id).select_related("team", "source"):
        if agg.pk in mine:
            agg = mine[agg.pk]
            if agg.pk in errors or agg.output_schema_id is None:
                keep.add(agg.definition_id)
            else:
                wanted[agg.definition_id] = row_of(agg)
        elif agg.observed_generation == agg.generation and agg.output_schema_id is not None and not agg.claim_token:
            wanted[agg.definition_id] = row_of(agg)
        else:
            keep.add(agg.definition_id)
    return wanted, keep


def _sync_table(admin: KafkaAcls, cluster: Cluster, claimed: list[Aggregation], run_id: str, errors: dict) -> None:
    topic = definitions_topic()
    with transaction.atomic():
        # One writer per cluster's table from reading it to writing: a slow run must not write a row after a
        # newer run's tombstone of it. The rows are read after the lock is held.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, cluster.pk])
        observed = _read_table(admin, topic)
        wanted, keep = desired_rows(cluster.pk, claimed, errors)
        upserts, tombstones = plan.diff(wanted, observed, keep=keep)
        outcomes = admin.write_compacted(topic, {**upserts, **dict.fromkeys(tombstones)})
    if upserts or tombstones:
        log.info("aggregations table of cluster %s: wrote %s, tombstoned %s", cluster.pk, sorted(upserts),
                 tombstones)
    for agg in claimed:
        error = outcomes.get(agg.definition_id)
        if error is not None:
            errors.setdefault(agg.pk, error)


def _read_table(admin: KafkaAcls, topic: str, attempts: int = 4) -> dict[str, bytes]:
    """The table as it stands. A table created moments ago may not have its partition leader yet (the broker
    answers NOT_LEADER_OR_FOLLOWER to the offsets request): a few short retries spare the run a full backoff."""
    failures = 0
    while True:
        try:
            return read_compacted(admin.connection, topic, timeout=admin.timeout + 10)
        except PlatformError as exc:
            failures += 1
            if not exc.retryable or failures >= attempts:
                raise
            time.sleep(0.5 * 2 ** (failures - 1))


def _record(claimed: list[Aggregation], errors: dict, report: RunReport) -> None:
    now = timezone.now()
    done, gone = [], []
    for agg in claimed:
        error = errors.get(agg.pk)
        if error is None:
            (gone if agg.wants_deletion else done).append(agg.pk)
        else:
            claims.record_failure(Aggregation, agg, error, now, report, key=agg.definition_id)
    # Written, not yet running: the status task makes it ready when the engine reports this version.
    mine = Aggregation.objects.filter(claim_token=report.run_id)
    report.ready = mine.filter(id__in=done, generation=F("claimed_generation")).update(
        status=ResourceStatus.APPLYING, observed_generation=F("generation"), failures=0, next_attempt_at=None,
        last_error="", drift=None, claim_token="")
    part = RunReport(run_id=report.run_id)
    claims.settle(Aggregation, part, done=done, gone=gone, now=now)
    report.deleted = part.deleted
    if part.retry_in is not None:
        report.retry_in = 0.0
