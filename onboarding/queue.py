"""Ask a worker to do something soon: reconcile a cluster once, or run a task, after the current transaction commits.

Tasks are sent by name, so nothing below the web layer imports ``tasks.py`` (which imports the
reconcilers): the services, the reconcilers and the sweep all schedule through here.

Many changes in a burst (a bulk import, a GitOps apply) produce one reconcile run, not one per
row: a Redis key marks a run as queued and the run clears it before it claims work, so a change
committed after the claim always queues the next run. If Redis or the broker is down nothing is
lost: the rows are in Postgres and the periodic sweep finds them.
"""

from __future__ import annotations

import enum
import logging
from functools import lru_cache

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)
QUEUED_TTL_SECONDS = 60


class Kind(enum.Enum):
    """One reconcile run per cluster and kind: its task's name and the Redis key that marks it queued."""

    TOPICS = ("onboarding.reconcile_cluster", "portal:reconcile-queued:{cluster_id}")
    # Schemas go to the registry in their own run (own task), so they have their own mark.
    SCHEMAS = ("onboarding.reconcile_schemas", "portal:schemas-queued:{cluster_id}")
    # Service accounts and subscriptions (SCRAM users, ACLs, routing rules): their own run and mark.
    ACCESS = ("onboarding.reconcile_access", "portal:access-queued:{cluster_id}")
    # Aggregation definitions (the engine's definitions table and output schemas): their own run and mark.
    AGGREGATIONS = ("onboarding.reconcile_aggregations", "portal:aggregations-queued:{cluster_id}")
    # Kafka Connect connectors (the worker's REST API and the worker principal's topic ACLs).
    CONNECTORS = ("onboarding.reconcile_connectors", "portal:connectors-queued:{cluster_id}")
    # Normalization mappings (the mapper's table, its dead-letter topics and its principal's ACLs).
    MAPPINGS = ("onboarding.reconcile_mappings", "portal:mappings-queued:{cluster_id}")
    # Topics kept in the event store (collections and indexes, their managed sink connectors).
    EVENT_STORE = ("onboarding.reconcile_event_store", "portal:event-store-queued:{cluster_id}")

    def __init__(self, task_name: str, queued_key: str):
        self.task_name = task_name
        self.queued_key = queued_key

    def mark(self, cluster_id: int) -> str:
        return self.queued_key.format(cluster_id=cluster_id)


QUEUED_KEY = Kind.TOPICS.queued_key
SCHEMAS_QUEUED_KEY = Kind.SCHEMAS.queued_key
ACCESS_QUEUED_KEY = Kind.ACCESS.queued_key


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def send(task_name: str, args: tuple, *, countdown: float | None = None) -> bool:
    """Send a task by name now; False (and a warning) when the broker cannot take it."""
    try:
        current_app.send_task(task_name, args=args, countdown=countdown)
        return True
    except Exception as exc:  # noqa: BLE001 - the broker being down must never fail the user's change
        log.warning("could not queue %s%s (%s); the sweep will pick it up", task_name, args, exc)
        return False


def _enqueue(kind: Kind, cluster_id: int, countdown: float | None = None) -> None:
    try:
        if countdown is None and not _redis().set(kind.mark(cluster_id), 1, nx=True, ex=QUEUED_TTL_SECONDS):
            return  # a run is already queued and will see this change
    except redis.RedisError as exc:
        log.warning("could not mark %s of cluster %s queued (%s); the sweep will pick it up", kind.task_name,
                    cluster_id, exc)
        return
    send(kind.task_name, (cluster_id,), countdown=countdown)


def run_soon(kind: Kind, cluster_id: int) -> None:
    """Queue one run of ``kind`` for the cluster once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue(kind, cluster_id))


def run_later(kind: Kind, cluster_id: int, seconds: float) -> None:
    """Queue a run after a backoff delay (retries of failed work)."""
    _enqueue(kind, cluster_id, countdown=max(1.0, seconds))


def clear_mark(kind: Kind, cluster_id: int) -> None:
    try:
        _redis().delete(kind.mark(cluster_id))
    except redis.RedisError as exc:
        log.warning("could not clear the queued mark of %s for cluster %s: %s", kind.name, cluster_id, exc)


def reconcile_soon(cluster_id: int) -> None:
    run_soon(Kind.TOPICS, cluster_id)


def reconcile_later(cluster_id: int, seconds: float) -> None:
    run_later(Kind.TOPICS, cluster_id, seconds)


def schemas_reconcile_soon(cluster_id: int) -> None:
    run_soon(Kind.SCHEMAS, cluster_id)


def schemas_reconcile_later(cluster_id: int, seconds: float) -> None:
    run_later(Kind.SCHEMAS, cluster_id, seconds)


def access_reconcile_soon(cluster_id: int) -> None:
    run_soon(Kind.ACCESS, cluster_id)


def access_reconcile_later(cluster_id: int, seconds: float) -> None:
    run_later(Kind.ACCESS, cluster_id, seconds)


def aggregations_reconcile_soon(cluster_id: int) -> None:
    run_soon(Kind.AGGREGATIONS, cluster_id)


def aggregations_reconcile_later(cluster_id: int, seconds: float) -> None:
    run_later(Kind.AGGREGATIONS, cluster_id, seconds)


def connectors_reconcile_soon(cluster_id: int) -> None:
    run_soon(Kind.CONNECTORS, cluster_id)


def connectors_reconcile_later(cluster_id: int, seconds: float) -> None:
    run_later(Kind.CONNECTORS, cluster_id, seconds)


def mappings_reconcile_soon(cluster_id: int) -> None:
    run_soon(Kind.MAPPINGS, cluster_id)


def mappings_reconcile_later(cluster_id: int, seconds: float) -> None:
    run_later(Kind.MAPPINGS, cluster_id, seconds)


def event_store_reconcile_soon(cluster_id: int) -> None:
    run_soon(Kind.EVENT_STORE, cluster_id)


def event_store_reconcile_later(cluster_id: int, seconds: float) -> None:
    run_later(Kind.EVENT_STORE, cluster_id, seconds)
