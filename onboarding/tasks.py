"""Celery tasks: ids in, a service called; retry policy on the decorator."""

import os
import socket

from celery import shared_task
from django.db import OperationalError, connection

# Imported when the worker starts, not inside the first task, so the first reconcile after a
# deploy does not pay for loading librdkafka and the reconcile modules.
from onboarding.reconcile import access as access_runner
from onboarding.reconcile import runner
from onboarding.reconcile import schemas as schema_runner
from onboarding.reconcile import sweep as sweep_module
from onboarding.services import deliveries, scheduling

# acks_late + reject_on_worker_lost: a task whose worker dies is redelivered, and the row claims
# (see reconcile/runner.py) make a second delivery harmless.
RELIABLE = {"acks_late": True, "reject_on_worker_lost": True}


# One reconciler run per cluster and kind; its queued mark is cleared before claiming, so a change
# saved during the run queues the next one.
RECONCILE_TASK = {"bind": True, "autoretry_for": (OperationalError,), "retry_backoff": True,
                  "retry_backoff_max": 60, "max_retries": None, **RELIABLE}


def _run(cluster_id: int, run, clear_mark, retry_later) -> dict:
    clear_mark()
    report = run(cluster_id)
    if report.retry_in is not None:
        retry_later(cluster_id, report.retry_in)
    return {"run": report.run_id, "claimed": report.claimed, "ready": report.ready, "deleted": report.deleted,
            "failed": report.failed}


@shared_task(name="onboarding.reconcile_cluster", **RECONCILE_TASK)
def reconcile_cluster(self, cluster_id: int) -> dict:
    return _run(cluster_id, runner.reconcile_cluster, lambda: scheduling.clear_queued_mark(cluster_id),
                scheduling.reconcile_later)


@shared_task(name="onboarding.reconcile_schemas", **RECONCILE_TASK)
def reconcile_schemas(self, cluster_id: int) -> dict:
    return _run(cluster_id, schema_runner.reconcile_schemas,
                lambda: scheduling.clear_queued_mark(cluster_id, schemas=True), scheduling.schemas_reconcile_later)


@shared_task(name="onboarding.reconcile_access", **RECONCILE_TASK)
def reconcile_access(self, cluster_id: int) -> dict:
    return _run(cluster_id, access_runner.reconcile_access,
                lambda: scheduling.clear_queued_mark(cluster_id, access=True), scheduling.access_reconcile_later)


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
    from onboarding.services.changes import change_requests_expire

    return change_requests_expire()


@shared_task(name="onboarding.platform_probe")
def platform_probe() -> dict:
    """Report, from a worker, whether the database, Kafka and the registry answer.

    Operators use it to tell a broken worker host from a broken service.
    """
    from onboarding.platform import PlatformError
    from onboarding.platform.kafka_admin import KafkaAdmin
    from onboarding.platform.registry import Registry

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
