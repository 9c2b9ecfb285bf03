"""Keep topics in the event store: for each binding, a collection with its indexes and a managed MongoDB sink
connector on the cluster's Connect worker that writes the topic into it. Claim, apply, record, like the other
runs; task ``onboarding.reconcile_event_store``.

A run grants the worker's principal what the sinks need through the connectors' own ACL planner (the topic to
read, ``<topic>.dlq`` to write; the connectors run plans the bindings' rights too, so neither run takes back
the other's), creates the collection and its indexes (pymongo), then PUTs the sink's whole config, keeps it
running and reads its state back. A deleted binding's connector and collection are removed.

The drift check (``check_event_store_drift``, from the sweep) compares the worker's config and the store's
indexes with the plan: a connector deleted or changed outside the portal, or an index missing or different,
is drift and is reverted at once (the portal owns both entirely; there is nothing to adopt). It also refreshes
the reported states, restarts failed tasks through the retry, and, on a store without TTL indexes (FerretDB),
removes documents older than the retention itself.

Indexed fields are indexed on the top-level copies the sink writes (``event_store_plan``); when a run applied a
binding whose indexed fields grew, it queues the backfill of the copies in the documents already stored
(``event_store_backfill``), and the drift check queues a lost or failed one again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from onboarding.models import Cluster, EventStoreBinding, ResourceStatus
from onboarding.platform import PlatformError
from onboarding.platform.connect import Connect, ConnectorStatus, connect_connection_for
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.event_store import EventStore
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.reconcile import claims, event_store_backfill
from onboarding.reconcile.claims import RunReport
from onboarding.reconcile.connectors import (
    _grant,
    _revoke,
    config_differences,
    live_connectors,
    planned_acls,
    worker_principal,
)
from onboarding.reconcile.event_store_plan import (
    TIME_FIELD,
    connector_config,
    event_store_sinks,
    index_differences,
    live_bindings,
    planned_indexes,
)

log = logging.getLogger(__name__)


def due_bindings(cluster_id: int):
    return claims.due(EventStoreBinding.objects.filter(topic__cluster_id=cluster_id))


def store_uri() -> str:
    return EventStoreBinding.store_uri()


def reconcile_event_store(cluster_id: int) -> RunReport:
    report = RunReport(run_id=uuid.uuid4().hex)
    claimed = claims.claim(due_bindings(cluster_id), report.run_id, related=("team", "topic__cluster"))
    report.claimed = len(claimed)
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None or not claimed:
        return report
    now = timezone.now()
    errors: dict[int, PlatformError] = {}
    done, gone, observed = [], [], {}
    connection = connect_connection_for(cluster)
    if connection is None or not store_uri():
        error = PlatformError("This cluster has no Kafka Connect worker or no event store is configured.",
                              retryable=False, code="no_worker")
        for b in claimed:
            claims.record_failure(EventStoreBinding, b, error, now, report, key=b.topic.name)
        return report
    try:
        admin = KafkaAcls(kafka_connection_for(cluster))
        principal = worker_principal()
        wanted = planned_acls([*live_connectors(cluster_id).select_related("team"), *event_store_sinks(cluster_id)],
                              principal)
        _grant(admin, principal, wanted)
        with Connect(connection) as connect, EventStore(store_uri()) as store:
            for b in claimed:
                try:
                    if b.wants_deletion:
                        connect.delete(b.connector_name)
                        store.drop_collection(b.database_name, b.collection_name)
                        gone.append(b.pk)
                    else:
                        observed[b.pk] = apply_indexes(store, b)
                        apply_connector(connect, b)
                        done.append(b.pk)
                except PlatformError as exc:
                    errors[b.pk] = exc
        _revoke(admin, principal, wanted)
    except PlatformError as exc:
        log.warning("event store bindings of cluster %s not applied: %s", cluster.pk, exc)
        for b in claimed:
            if b.pk not in done and b.pk not in gone:
                errors.setdefault(b.pk, exc)
    claims.settle(EventStoreBinding, report, done=[pk for pk in done if pk not in errors],
                  gone=[pk for pk in gone if pk not in errors], now=now)
    for pk, seen in observed.items():
        # What the store could do (TTL or not) is kept for the drift check; settle cleared observed.
        if pk not in errors:
            EventStoreBinding.objects.filter(pk=pk, status=ResourceStatus.READY).update(observed=seen)
    for b in claimed:
        if b.pk in observed and b.pk not in errors:
            # The sink now writes the copies of every indexed field; the documents stored before need theirs.
            event_store_backfill.schedule(b)
    for b in claimed:
        if b.pk in errors:
            claims.record_failure(EventStoreBinding, b, errors[b.pk], now, report, key=b.topic.name)
    return report


def apply_indexes(store: EventStore, b: EventStoreBinding) -> dict:
    """The collection and exactly the planned indexes; what the store could do, for ``observed``. A store that
    refused a TTL index once is not asked again (its time index then has no expiry, which is no difference)."""
    store.ensure_collection(b.database_name, b.collection_name)
    planned = planned_indexes(b)
    ttl = (b.observed or {}).get("ttl", True)
    have = store.indexes(b.database_name, b.collection_name)
    for name, difference in index_differences(planned, have, ttl_supported=ttl).items():
        if difference["observed"] is not None:
            store.drop_index(b.database_name, b.collection_name, name)
        if name in planned:
            made_with_ttl = store.create_index(b.database_name, b.collection_name, planned[name])
            if planned[name].expire_after_seconds:
                ttl = made_with_ttl
    return {"indexes": sorted(planned), "ttl": ttl}


def apply_connector(connect: Connect, b: EventStoreBinding) -> None:
    had_failed = _reported_failed(b.connector_state, b.task_states)
    connect.put_config(b.connector_name, connector_config(b))
    connect.set_state(b.connector_name, "running")
    if had_failed:
        # A new config does not restart a failed task: this run's retry does.
        connect.restart(b.connector_name, include_tasks=True, only_failed=True)
    status = connect.status(b.connector_name)
    _store_status(b, status)
    if not had_failed and status is not None and _reported_failed(status.connector_state, status.tasks):
        raise PlatformError(f"The worker reports the event store sink failed: {_first_line(status.error)}",
                            retryable=True, code="connector_failed")


def _reported_failed(connector_state: str, tasks: list[dict]) -> bool:
    return connector_state == "FAILED" or any(t.get("state") == "FAILED" for t in tasks or [])


def _first_line(trace: str) -> str:
    return (trace or "no trace").strip().splitlines()[0][:500]


def _store_status(b: EventStoreBinding, status: ConnectorStatus | None) -> None:
    """What the worker reported, written regardless of the claim: an observation, not desired state."""
    values = {"connector_state": status.connector_state if status else "",
              "task_states": status.tasks if status else [],
              "runtime_error": status.error[:4000] if status else "", "state_checked_at": timezone.now()}
    EventStoreBinding.objects.filter(pk=b.pk).update(**values)
    for key, value in values.items():
        setattr(b, key, value)


# --------------------------------------------------------------------------------------------- drift, states

def check_event_store_drift(cluster: Cluster) -> dict:
    """Compare each applied binding's connector and indexes with the plan and revert any difference; refresh
    the sink's state (a failed one is retried with backoff); remove expired documents where the store has no
    TTL indexes."""
    bindings = list(live_bindings(cluster.pk).filter(
        status__in=[ResourceStatus.READY, ResourceStatus.DRIFTED], claim_token="").select_related(
        "team", "topic__cluster"))
    if not bindings:
        return {"checked": 0}
    connection = connect_connection_for(cluster)
    if connection is None or not store_uri():
        return {"checked": 0}
    reverted, failed, expired = [], [], 0
    with Connect(connection) as connect, EventStore(store_uri()) as store:
        for b in bindings:
            observed_config = connect.config(b.connector_name)
            config_diff = config_differences(connector_config(b), observed_config)
            ttl = (b.observed or {}).get("ttl", True)
            index_diff = index_differences(planned_indexes(b), store.indexes(b.database_name, b.collection_name),
                                           ttl_supported=ttl)
            _store_status(b, connect.status(b.connector_name) if observed_config is not None else None)
            if config_diff or index_diff:
                drift = {"connector": config_diff, "indexes": index_diff}
                EventStoreBinding.objects.filter(pk=b.pk, generation=b.generation).update(
                    status=ResourceStatus.PENDING, drift=drift, generation=F("generation") + 1)
                reverted.append(b.topic.name)
                continue
            if _reported_failed(b.connector_state, b.task_states):
                _fail_for_restart(b)
                failed.append(b.topic.name)
            event_store_backfill.requeue_if_stale(b)
            if b.retention_days and not ttl:
                cutoff = timezone.now() - timedelta(days=b.retention_days)
                expired += store.delete_older_than(b.database_name, b.collection_name, TIME_FIELD, cutoff)
    return {"checked": len(bindings), "reverted": reverted, "failed": failed, "expired": expired}


def _fail_for_restart(b: EventStoreBinding) -> None:
    failures = b.failures + 1
    EventStoreBinding.objects.filter(pk=b.pk, generation=b.generation, claim_token="").update(
        status=ResourceStatus.FAILED, failures=failures,
        last_error=f"The worker reports the event store sink failed: {_first_line(b.runtime_error)}",
        next_attempt_at=timezone.now() + timedelta(seconds=claims.backoff_seconds(failures)))
