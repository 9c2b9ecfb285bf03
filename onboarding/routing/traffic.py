"""Per-subscription traffic counters, shared by every router process through Redis.

Routers add what they committed; the subscription page reads the totals. Counting is best effort:
a Redis outage loses counts, never events, and never stops the router.
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache

import redis
from django.conf import settings

log = logging.getLogger(__name__)
KEY = "portal:traffic:{subscription_id}"
FIELDS = ("routed", "filtered_out", "dead_lettered")


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def record_counts(counts: dict[str, Counter]) -> None:
    """Add one committed batch's counts (subscription id -> Counter of FIELDS)."""
    if not counts:
        return
    try:
        pipeline = _redis().pipeline(transaction=False)
        for subscription_id, counter in counts.items():
            for field, amount in counter.items():
                if amount:
                    pipeline.hincrby(KEY.format(subscription_id=subscription_id), field, amount)
        pipeline.execute()
    except redis.RedisError as exc:
        log.warning("traffic counters not recorded (%s)", exc)


def read_counts(subscription_id) -> dict[str, int] | None:
    """Totals for one subscription, or None when Redis cannot be read."""
    try:
        raw = _redis().hgetall(KEY.format(subscription_id=subscription_id))
    except redis.RedisError:
        return None
    return {field: int(raw.get(field.encode(), 0)) for field in FIELDS}


def read_many(subscription_ids) -> dict:
    """Totals of many subscriptions in one round trip (subscription id -> {field: n}); raises RedisError."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    pipeline = _redis().pipeline(transaction=False)
    for subscription_id in ids:
        pipeline.hgetall(KEY.format(subscription_id=subscription_id))
    return {subscription_id: {field: int(raw.get(field.encode(), 0)) for field in FIELDS}
            for subscription_id, raw in zip(ids, pipeline.execute(), strict=True)}


def reset(subscription_id) -> None:
    """Start a subscription's totals from zero (a new subscription, or a counter being cleared)."""
    try:
        _redis().delete(KEY.format(subscription_id=subscription_id))
    except redis.RedisError as exc:
        log.warning("traffic counters not reset (%s)", exc)
