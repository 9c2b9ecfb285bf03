"""Prometheus metrics of the web process: `/metrics`.

Two parts in one page:
- process metrics from django-prometheus (requests, responses, latency, database queries), per process,
  or summed over gunicorn's workers through prometheus_client's multiprocess mode when
  PROMETHEUS_MULTIPROC_DIR is set (it must be an empty directory, wiped at each start);
- portal metrics read at scrape time from the shared state (Postgres, Redis), so every web process
  reports the same values and what the workers and routers did shows up without them being scraped.

Access: open unless METRICS_BEARER_TOKEN and/or METRICS_ALLOWED_IPS are set (see README).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from functools import lru_cache

import prometheus_client
import redis
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpResponse
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from onboarding.models import ResourceStatus, Schema, ServiceAccount, Subscription, Topic

log = logging.getLogger(__name__)
# Upper bounds (seconds) of the reconcile duration histogram.
ATTEMPT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Deleted rows are history, not resources: they are left out of the status counts.
LIVE_STATUSES = [s for s in ResourceStatus.values if s != ResourceStatus.DELETED]


class ResourceStatusCollector:
    """portal_resources{kind, status}: one grouped COUNT per resource table."""

    KINDS = (("topic", Topic), ("schema", Schema), ("service_account", ServiceAccount),
             ("subscription", Subscription))

    def collect(self):
        family = GaugeMetricFamily("portal_resources", "Resources in the portal's desired state, by status.",
                                   labels=["kind", "status"])
        for kind, model in self.KINDS:
            counts = dict.fromkeys(LIVE_STATUSES, 0)
            for row in model.objects.exclude(status=ResourceStatus.DELETED).values("status").annotate(
                    n=Count("id")).order_by():
                counts[row["status"]] = row["n"]
            for status, n in counts.items():
                family.add_metric([kind, status], n)
        yield family


# Attempts carry no kind column: a schema's attempt names its schema, a subscription's attempt lists
# actions starting "subscription <id>:" (reconcile/access.py), anything else is a topic's.
_ATTEMPTS_SQL = """
SELECT CASE WHEN schema_id IS NOT NULL THEN 'schema'
            WHEN actions::text LIKE %s THEN 'subscription'
            ELSE 'topic' END AS kind,
       outcome, count(*), coalesce(sum(duration_ms), 0), {buckets}
FROM onboarding_applyattempt GROUP BY 1, 2
"""


class ReconcileAttemptCollector:
    """portal_reconcile_attempts_total and portal_reconcile_duration_seconds, from the ApplyAttempt rows.

    One aggregate query; its result is kept for a few seconds so several scrapers (or web processes
    scraped in turn) do not each scan the attempts table.
    """

    cache_seconds = 10.0

    def __init__(self):
        self._cached: tuple[float, list] | None = None

    def _rows(self) -> list:
        if self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
            return self._cached[1]
        buckets = ", ".join(f"count(*) FILTER (WHERE duration_ms <= {int(b * 1000)})" for b in ATTEMPT_BUCKETS)
        with connection.cursor() as cursor:
            cursor.execute(_ATTEMPTS_SQL.format(buckets=buckets), ['["subscription %'])
            rows = cursor.fetchall()
        self._cached = (time.monotonic(), rows)
        return rows

    def collect(self):
        attempts = CounterMetricFamily("portal_reconcile_attempts", "Reconcile attempts recorded by the workers.",
                                       labels=["kind", "outcome"])
        durations = HistogramMetricFamily("portal_reconcile_duration_seconds",
                                          "How long reconcile attempts took.", labels=["kind", "outcome"])
        for kind, outcome, count, duration_ms, *cumulative in self._rows():
            attempts.add_metric([kind, outcome], count)
            buckets = [(str(b), n) for b, n in zip(ATTEMPT_BUCKETS, cumulative, strict=True)]
            durations.add_metric([kind, outcome], buckets + [("+Inf", count)], sum_value=duration_ms / 1000)
        yield attempts
        yield durations


@lru_cache(maxsize=1)
def _broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)


class QueueAndTrafficCollector:
    """Redis-held numbers: the Celery queue's length and the routers' per-subscription counters."""

    def collect(self):
        from onboarding.routing import traffic

        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        depth = GaugeMetricFamily("portal_celery_queue_length", "Tasks waiting in the Celery queue.",
                                  labels=["queue"])
        events = CounterMetricFamily("portal_subscription_events", "Events the routers committed, per routed "
                                     "subscription and outcome.", labels=["subscription", "outcome"])
        up = GaugeMetricFamily("portal_redis_up", "Whether Redis answered this scrape.")
        try:
            depth.add_metric([queue], _broker().llen(queue))
            ids = list(Subscription.objects.filter(mode=Subscription.Mode.ROUTED).exclude(
                status=ResourceStatus.DELETED).values_list("pk", flat=True))
            for subscription_id, counts in traffic.read_many(ids).items():
                for outcome, n in counts.items():
                    events.add_metric([str(subscription_id), outcome], n)
            up.add_metric([], 1)
        except redis.RedisError as exc:
            log.warning("metrics: Redis unreachable (%s)", exc)
            up.add_metric([], 0)
        yield from (depth, events, up)


PORTAL_REGISTRY = prometheus_client.CollectorRegistry(auto_describe=False)
for _collector in (ResourceStatusCollector(), ReconcileAttemptCollector(), QueueAndTrafficCollector()):
    PORTAL_REGISTRY.register(_collector)


def _process_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


def allowed(request) -> bool:
    """METRICS_BEARER_TOKEN and METRICS_ALLOWED_IPS, when set, must both be satisfied."""
    token = settings.METRICS_BEARER_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return False
    networks = settings.METRICS_ALLOWED_IPS
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net, strict=False) for net in networks)
    return True


def metrics_view(request):
    if not allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    with suppress_instrumentation():  # scraped every few seconds: no database spans for the collectors
        body = prometheus_client.generate_latest(_process_registry()) + prometheus_client.generate_latest(
            PORTAL_REGISTRY)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
