"""How many brokers a cluster has, asked briefly and remembered for a minute.

Forms and checks that run while a person types need it (a replication factor above the broker count
can never be created), so the answer is cached; a cluster that does not answer quickly gives None,
remembered for a shorter while, and callers fall back to the cluster's policy rather than fail.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import KafkaAdmin

log = logging.getLogger(__name__)
KNOWN_SECONDS = 60
UNKNOWN_SECONDS = 15
PROBE_TIMEOUT_SECONDS = 3.0
_UNKNOWN = 0  # cached for a cluster that did not answer (None would read as "not cached")


def broker_count(cluster) -> int | None:
    """The number of brokers that answered a metadata request, or None when the cluster did not answer."""
    key = f"cluster-brokers:{cluster.pk}:{cluster.bootstrap_servers}"
    try:
        cached = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - a cache outage must not stop a form; ask the cluster instead
        log.warning("broker count cache unavailable: %s", exc)
        cached = None
    if cached is not None:
        return cached or None
    try:
        count = KafkaAdmin(kafka_connection_for(cluster), timeout=PROBE_TIMEOUT_SECONDS).ping() or None
    except PlatformError as exc:
        log.info("broker count of %s unknown: %s", cluster, exc)
        count = None
    try:
        cache.set(key, count or _UNKNOWN, KNOWN_SECONDS if count else UNKNOWN_SECONDS)
    except Exception as exc:  # noqa: BLE001
        log.warning("broker count cache unavailable: %s", exc)
    return count
