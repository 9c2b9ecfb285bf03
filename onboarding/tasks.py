"""Celery tasks: ids in, a service called; retry policy on the decorator."""

import logging
import os
import socket

from celery import shared_task
from django.db import OperationalError, connection

# Imported when the worker starts, not inside the first task, so the first reconcile after a
# deploy does not pay for loading librdkafka and the reconcile modules.
from onboarding import queue
from onboarding.changes.requests import change_requests_expire
from onboarding.models import Cluster
from onboarding.notifications import deliveries
from onboarding.platform import PlatformError
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.platform.registry import Registry
from onboarding.reconcile import access as access_reconciler
from onboarding.reconcile import aggregations as aggregations_reconciler
from onboarding.reconcile import aggregations_status, event_store_backfill, gateway_audit
from onboarding.reconcile import connectors as connectors_reconciler
from onboarding.reconcile import event_store as event_store_reconciler
from onboarding.reconcile import mappings as mappings_reconciler
from onboarding.reconcile import schemas as schemas_reconciler
from onboarding.reconcile import sweep as sweep_module
from onboarding.reconcile import topics as topics_reconciler
from onboarding.selectors.mappings import live_mapping_versions
from onboarding.services import group_lag, topic_traffic
from onboarding.services.mapping_table import mapping_table_row

# acks_late + reject_on_worker_lost: a task whose worker dies is redelivered, and the row claims
# (see reconcile/claims.py) make a second delivery harmless.
RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}
logger = logging.getLogger(__name__)


# One reconciler run per cluster and kind; its queued mark is cleared before claiming, so a change
# saved during the run queues the next one.
RECONCILE_TASK = {"bind": True, "autoretry_for": (OperationalError,), "retry_backoff": True,
                  "retry_backoff_max": 60, "max_retries": None, **RELIABLE}


def _summary(report) -> dict:
    return {"run": report.run_id, "claimed": report.claimed, "ready": report.ready, "deleted": report.deleted,
            "failed": report.failed}


def _run(kind: queue.Kind, cluster_id: int, reconcile) -> dict:
    """One reconciler run of ``kind``; a cluster deleted since the run was queued has nothing left to apply."""
    queue.clear_mark(kind, cluster_id)
    if not Cluster.objects.filter(pk=cluster_id).exists():
        logger.info("%s run: cluster %s no longer exists; nothing to reconcile", kind.name.lower(), cluster_id)
        return {"skipped": "the cluster no longer exists"}
    report = reconcile(cluster_id)
    if report.retry_in is not None:
        queue.run_later(kind, cluster_id, report.retry_in)
    return _summary(report)


@shared_task(name=queue.Kind.TOPICS.task_name, **RECONCILE_TASK)
def reconcile_cluster(self, cluster_id: int) -> dict:
    return _run(queue.Kind.TOPICS, cluster_id, topics_reconciler.reconcile_cluster)


@shared_task(name=queue.Kind.SCHEMAS.task_name, **RECONCILE_TASK)
def reconcile_schemas(self, cluster_id: int) -> dict:
    return _run(queue.Kind.SCHEMAS, cluster_id, schemas_reconciler.reconcile_schemas)


@shared_task(name=queue.Kind.ACCESS.task_name, **RECONCILE_TASK)
def reconcile_access(self, cluster_id: int) -> dict:
    return _run(queue.Kind.ACCESS, cluster_id, access_reconciler.reconcile_access)


@shared_task(name=queue.Kind.AGGREGATIONS.task_name, **RECONCILE_TASK)
def reconcile_aggregations(self, cluster_id: int) -> dict:
    return _run(queue.Kind.AGGREGATIONS, cluster_id, aggregations_reconciler.reconcile_aggregations)


@shared_task(name=queue.Kind.CONNECTORS.task_name, **RECONCILE_TASK)
def reconcile_connectors(self, cluster_id: int) -> dict:
    return _run(queue.Kind.CONNECTORS, cluster_id, connectors_reconciler.reconcile_connectors)


def mapping_table_rows(cluster) -> list[dict]:
    """The mapper's rows of the cluster: the services' row of every live mapping version (the reconciler sits
    below the services and selectors, so the task hands it this)."""
    return [mapping_table_row(version) for version in live_mapping_versions(cluster)]


@shared_task(name=queue.Kind.MAPPINGS.task_name, **RECONCILE_TASK)
def reconcile_mappings(self, cluster_id: int) -> dict:
    return _run(queue.Kind.MAPPINGS, cluster_id,
                lambda pk: mappings_reconciler.reconcile_mappings(pk, rows_of=mapping_table_rows))


@shared_task(name=queue.Kind.EVENT_STORE.task_name, **RECONCILE_TASK)
def reconcile_event_store(self, cluster_id: int) -> dict:
    return _run(queue.Kind.EVENT_STORE, cluster_id, event_store_reconciler.reconcile_event_store)


# Progress is on the binding after every batch: a redelivered or requeued task goes on where the copies end.
@shared_task(name=event_store_backfill.TASK, **RELIABLE)
def backfill_event_store(binding_id: int, token: str) -> dict:
    return event_store_backfill.run_backfill(binding_id, token)


# Beat runs it every AGGREGATIONS_STATUS_SECONDS; a table that cannot be read is simply the next run's work.
@shared_task(name="onboarding.aggregations_status", **RELIABLE)
def aggregations_status_refresh() -> dict:
    report = aggregations_status.refresh()
    return {"checked": report.checked, "changed": report.changed, "errors": report.errors}


@shared_task(name="onboarding.sweep", **RELIABLE)
def sweep() -> dict:
    return sweep_module.sweep()


# Retries of a failed delivery are scheduled by the delivery itself (its backoff is on the row, where
# the sweep sees it); autoretry covers only the database being briefly unreachable.
@shared_task(name="onboarding.deliver_notification", autoretry_for=(OperationalError,), retry_backoff=True,
             retry_backoff_max=60, max_retries=5, **RELIABLE)
def deliver_notification(delivery_id: int) -> str:
    return deliveries.deliver(delivery_id)


@shared_task(name="onboarding.notification_sweep", **RELIABLE)
def notification_sweep() -> dict:
    return deliveries.sweep()


@shared_task(name="onboarding.expire_change_requests", **RELIABLE)
def expire_change_requests() -> int:
    return change_requests_expire()


# Beat runs it every GATEWAY_AUDIT_INGEST_SECONDS; a failed run (Kafka away) is simply the next run's work.
@shared_task(name="onboarding.ingest_gateway_audit", **RELIABLE)
def ingest_gateway_audit() -> dict:
    report = gateway_audit.ingest()
    return {"read": report.read, "stored": report.stored, "caught_up": report.caught_up}


# Beat runs it every LAG_SAMPLE_SECONDS; a cluster that does not answer leaves a gap in its plots.
@shared_task(name="onboarding.lag_sample", **RELIABLE)
def lag_sample() -> dict:
    return group_lag.lag_sample_all()


# Beat runs it every TRAFFIC_SAMPLE_SECONDS; a cluster that does not answer leaves a gap in its plots.
@shared_task(name="onboarding.traffic_sample", **RELIABLE)
def traffic_sample() -> dict:
    return topic_traffic.traffic_sample_all()


@shared_task(name="onboarding.platform_probe")
def platform_probe() -> dict:
    """Report, from a worker, whether the database, Kafka and the registry answer.

    Operators use it to tell a broken worker host from a broken service.
    """
    report = {"worker": f"{socket.gethostname()}:{os.getpid()}"}
    with connection.cursor() as cursor:
        cursor.execute("select current_database()")
        report["database"] = cursor.fetchone()[0]
    for name, check in (("kafka", lambda: KafkaAdmin(timeout=5).ping()), ("registry", lambda: Registry().ping())):
        try:
            check()
            report[name] = "ok"
        except PlatformError as exc:
            report[name] = str(exc)
    return report
