"""Ask a worker to reconcile a cluster soon, once, after the current transaction commits.

Many changes in a burst (a bulk import, a GitOps apply) produce one reconcile run, not one per
row: a Redis key marks a run as queued and the run clears it before it claims work, so a change
committed after the claim always queues the next run. If Redis or the broker is down nothing is
lost: the rows are in Postgres and the periodic sweep finds them.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import redis
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)
QUEUED_KEY = "portal:reconcile-queued:{cluster_id}"
# Schemas go to the registry in their own run (own task), so they have their own mark.
SCHEMAS_QUEUED_KEY = "portal:schemas-queued:{cluster_id}"
# Service accounts and subscriptions (SCRAM users, ACLs, routing rules): their own run and mark.
ACCESS_QUEUED_KEY = "portal:access-queued:{cluster_id}"
QUEUED_TTL_SECONDS = 60


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def reconcile_soon(cluster_id: int) -> None:
    transaction.on_commit(lambda: _enqueue(cluster_id))


def _enqueue(cluster_id: int, countdown: float | None = None, *, schemas: bool = False, access: bool = False) -> None:
    from onboarding.tasks import reconcile_access, reconcile_cluster, reconcile_schemas

    if access:
        task, key = reconcile_access, ACCESS_QUEUED_KEY
    else:
        task, key = (reconcile_schemas, SCHEMAS_QUEUED_KEY) if schemas else (reconcile_cluster, QUEUED_KEY)
    try:
        if countdown is None and not _redis().set(key.format(cluster_id=cluster_id), 1, nx=True,
                                                  ex=QUEUED_TTL_SECONDS):
            return  # a run is already queued and will see this change
        task.apply_async((cluster_id,), countdown=countdown)
    except Exception as exc:  # noqa: BLE001 - the broker being down must never fail the user's change
        log.warning("could not queue %s of cluster %s (%s); the sweep will pick it up", task.name, cluster_id, exc)


def reconcile_later(cluster_id: int, seconds: float) -> None:
    """Queue a run after a backoff delay (retries of failed work)."""
    _enqueue(cluster_id, countdown=max(1.0, seconds))


def clear_queued_mark(cluster_id: int, *, schemas: bool = False, access: bool = False) -> None:
    key = ACCESS_QUEUED_KEY if access else SCHEMAS_QUEUED_KEY if schemas else QUEUED_KEY
    try:
        _redis().delete(key.format(cluster_id=cluster_id))
    except redis.RedisError as exc:
        log.warning("could not clear the queued mark of cluster %s: %s", cluster_id, exc)


def schemas_reconcile_soon(cluster_id: int) -> None:
    """Queue one registry run for the cluster's schemas once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue(cluster_id, schemas=True))


def schemas_reconcile_later(cluster_id: int, seconds: float) -> None:
    """Queue a registry run after a backoff delay (retries of failed schema work)."""
    _enqueue(cluster_id, countdown=max(1.0, seconds), schemas=True)


def access_reconcile_soon(cluster_id: int) -> None:
    """Queue one access run (SCRAM users, ACLs, routing rules) once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue(cluster_id, access=True))


def access_reconcile_later(cluster_id: int, seconds: float) -> None:
    """Queue an access run after a backoff delay."""
    _enqueue(cluster_id, countdown=max(1.0, seconds), access=True)
