"""Health endpoints for load balancers and orchestrators.

/healthz: the process answers (liveness). No dependency is touched, so a database outage never gets
          healthy web processes restarted.
/readyz:  the process can do its work (readiness): the database, Redis, and the Kafka broker and Schema
          Registry of every active cluster (or the default connection when none is registered) answer
          within a short timeout. Checks run in parallel; 200 only when all pass, else 503.
          ``?require=database`` (comma-separated names or prefixes such as ``kafka``) lets only those checks
          decide the status while all are still reported: a web pod's readiness should not depend on a
          broker, since the portal keeps accepting changes (saved, applied later) while Kafka is away.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from opentelemetry.instrumentation.utils import suppress_instrumentation

CHECK_TIMEOUT_SECONDS = 2.0


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database():
    # A thread of its own: a fresh connection, closed afterwards (checks run in pool threads).
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [int(CHECK_TIMEOUT_SECONDS * 1000)])
            cursor.execute("SELECT 1")
    finally:
        connections.close_all()


def _redis():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=CHECK_TIMEOUT_SECONDS,
                                  socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def _kafka(connection):
    from onboarding.platform.kafka_admin import KafkaAdmin

    return lambda: KafkaAdmin(connection, timeout=CHECK_TIMEOUT_SECONDS).ping()


def _registry(connection):
    from onboarding.platform.registry import Registry

    def check():
        with Registry(connection, timeout=CHECK_TIMEOUT_SECONDS) as registry:
            registry.ping()

    return check


def _platform_checks() -> dict:
    """name -> check for the brokers and registries, one pair per active cluster."""
    from onboarding.models import Cluster
    from onboarding.platform.connection import (
        default_kafka_connection,
        default_registry_connection,
        kafka_connection_for,
        registry_connection_for,
    )

    checks = {}
    clusters = list(Cluster.objects.filter(is_active=True))
    if not clusters:
        return {"kafka": _kafka(default_kafka_connection()), "registry": _registry(default_registry_connection())}
    for cluster in clusters:
        checks[f"kafka:{cluster.name}"] = lambda c=cluster: _kafka(kafka_connection_for(c))()
        checks[f"registry:{cluster.name}"] = lambda c=cluster: _registry(registry_connection_for(c))()
    return checks


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        with suppress_instrumentation():  # probes every few seconds: no database or HTTP spans for them
            check()
        result = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure is the answer, reported by name
        result = {"ok": False, "error": str(exc) or type(exc).__name__}
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _failing(exc: Exception):
    def check():
        raise exc

    return check


def run_checks() -> dict[str, dict]:
    checks = {"database": _database, "redis": _redis}
    try:
        checks.update(_platform_checks())
    except Exception as exc:  # noqa: BLE001 - no cluster list without the database; say so once
        checks["clusters"] = _failing(exc)
    results = {}
    # Not a with-block: leaving it would wait for a check that hangs past its timeout.
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readyz")
    futures = {name: pool.submit(_timed, check) for name, check in checks.items()}
    deadline = time.monotonic() + CHECK_TIMEOUT_SECONDS + 1
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = {"ok": False, "error": f"no answer within {CHECK_TIMEOUT_SECONDS:g} s",
                             "latency_ms": CHECK_TIMEOUT_SECONDS * 1000}
    pool.shutdown(wait=False, cancel_futures=True)
    return results


@never_cache
@require_GET
def readyz(request):
    with suppress_instrumentation():  # probed every few seconds: no spans for its queries and calls
        results = run_checks()
    required = [name.strip() for name in request.GET.get("require", "").split(",") if name.strip()]
    deciding = {name: result for name, result in results.items()
                if not required or any(name == want or name.startswith(f"{want}:") for want in required)}
    ready = bool(deciding) and all(result["ok"] for result in deciding.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
