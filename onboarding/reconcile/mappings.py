"""Make one cluster's mappings table (MAPPER_TABLE_TOPIC, the mapper's configuration) match the portal. Claim,
apply, record, like the other runs; task ``onboarding.reconcile_mappings``.

The rows are the portal's ``mapping_table_row`` of every live mapping version (``live_mapping_versions``); the
services and selectors sit above the reconcilers, so the task hands them in (``rows_of``). Under a per-cluster
advisory lock the run reads the table back and writes what differs: a row per live mapping (a new version
replaces the running one in the mapper without a restart), tombstones for mappings that are gone. It creates the
table topic and each mapping's dead-letter topic first (the mapper's principal may create nothing), and widens the
mapper principal's rights to the rows it writes before the write, narrowing them to the table after
(``mapper_access``). The claimed mappings are then ready (or deleted); a failure is recorded with backoff, and
the sweep queues the run again while any mapping is due.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.utils import timezone

from onboarding.mapper.table import encode_row
from onboarding.models import Cluster, Mapping
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import DesiredTopic
from onboarding.reconcile import claims, mapper_access, principals
from onboarding.reconcile.access import _replication_factor
from onboarding.reconcile.aggregations import _read_table
from onboarding.reconcile.claims import RunReport

log = logging.getLogger(__name__)
LOCK_CLASS = zlib.crc32(b"onboarding.mappings-table") & 0x7FFFFFFF  # advisory lock's first key; cluster id second
TABLE_ERROR = "mappings-table"
RowsOf = Callable[[Cluster], Iterable[dict]]


def due_mappings(cluster_id: int):
    return claims.due(Mapping.objects.filter(cluster_id=cluster_id))


def reconcile_mappings(cluster_id: int, *, rows_of: RowsOf) -> RunReport:
    report = RunReport(run_id=uuid.uuid4().hex)
    claimed = claims.claim(due_mappings(cluster_id), report.run_id, related=("team",))
    report.claimed = len(claimed)
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return report
    error: PlatformError | None = None
    waiting: set[str] = set()
    try:
        admin = KafkaAcls(kafka_connection_for(cluster))
        mapper_access.ensure_table_topic(admin, cluster)
        waiting = _sync_table(admin, cluster, rows_of, report)
    except PlatformError as exc:
        log.warning("mappings table of cluster %s not converged: %s", cluster.pk, exc)
        error = exc
        report.errors[TABLE_ERROR] = str(exc)
        if not claimed:  # nothing claimed to carry the error: try again
            report.retry_in = claims.backoff_seconds(1)
    _record(claimed, error, waiting, report)
    return report


def _sync_table(admin: KafkaAcls, cluster: Cluster, rows_of: RowsOf, report: RunReport) -> set[str]:
    """Write the table; the ids of the mappings whose new row waits for its canonical schema's id."""
    topic = mapper_access.table_topic()
    with transaction.atomic():
        # One writer per cluster's table from reading it to writing: a slow run must not write a row after a
        # newer run's tombstone of it. The desired rows are read after the lock is held.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, cluster.pk])
        wanted = {row["id"]: row for row in rows_of(cluster)}
        # A version whose canonical schema the registry has not given an id yet (the schema run is behind) would
        # dead-letter every event: the running row stays until the id is there.
        waiting = {key for key, row in wanted.items() if row.get("target_schema_id") is None}
        _ensure_dead_letter_topics(admin, cluster, {row["dlq_topic"] for row in wanted.values()})
        observed = _read_table(admin, topic)
        upserts = {key: encode_row(row) for key, row in wanted.items()
                   if key not in waiting and observed.get(key) != encode_row(row)}
        tombstones = sorted(set(observed) - set(wanted))
        # Rights first: the mapper reads a row as soon as it is written.
        principals.widen(mapper_access.while_writing(upserts.values()), report, cluster, admin)
        outcomes = admin.write_compacted(topic, {**upserts, **dict.fromkeys(tombstones)})
    if upserts or tombstones:
        log.info("mappings table of cluster %s: wrote %s, tombstoned %s", cluster.pk, sorted(upserts), tombstones)
    failed = {key: error for key, error in outcomes.items() if error is not None}
    if failed:
        raise next(iter(failed.values()))
    # Then exactly the rights of the table as written (a replaced or removed mapping's go).
    principals.narrow(mapper_access.PRINCIPAL, report, cluster,
                      principals.widen(mapper_access.PRINCIPAL, report, cluster, admin))
    return waiting


def _ensure_dead_letter_topics(admin: KafkaAcls, cluster: Cluster, names: set[str]) -> None:
    missing = sorted(names - admin.list_topic_names())
    if not missing:
        return
    factor = _replication_factor(cluster, admin)
    created = admin.create_topics([DesiredTopic(name, 1, factor, {}) for name in missing])
    failed = [error for error in created.values() if error is not None]
    if failed:
        raise failed[0]
    admin.await_metadata(present=set(missing), absent=set())


def _record(claimed: list[Mapping], error: PlatformError | None, waiting: set[str], report: RunReport) -> None:
    now = timezone.now()
    done, gone = [], []
    for mapping in claimed:
        failure = error
        if failure is None and mapping.mapping_id in waiting and not mapping.wants_deletion:
            failure = PlatformError("The canonical schema version is not registered yet; the mapper keeps the "
                                    "running version until it is.", retryable=True, code="schema_pending")
        if failure is not None:
            claims.record_failure(Mapping, mapping, failure, now, report, key=mapping.mapping_id)
        else:
            (gone if mapping.wants_deletion else done).append(mapping.pk)
    claims.settle(Mapping, report, done=done, gone=gone, now=now)
