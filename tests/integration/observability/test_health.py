"""/healthz answers without touching anything; /readyz checks every dependency and names the one that fails."""

import pytest
from django.test import Client

from onboarding.services.clusters import cluster_create

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_the_database_redis_broker_and_registry_answer(cluster):
    response = Client().get("/readyz")

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert set(checks) == {"database", "redis", "kafka:local", "registry:local"}
    for result in checks.values():
        assert result["ok"] is True and result["latency_ms"] >= 0


def test_readyz_is_503_and_names_a_cluster_whose_broker_is_unreachable(cluster, settings):
    # Port 1 on loopback: nothing listens there, so the broker check fails fast and for sure.
    cluster_create(actor=None, name="unreachable", environment="test", order=1, bootstrap_servers="127.0.0.1:1",
                   registry_url=settings.SCHEMA_REGISTRY_URL, reconcile_interval_seconds=5)

    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["kafka:unreachable"]["ok"] is False
    assert body["checks"]["kafka:unreachable"]["error"]
    assert body["checks"]["kafka:local"]["ok"] is True
    assert body["checks"]["registry:unreachable"]["ok"] is True


def test_readyz_is_503_when_a_registry_is_unreachable(cluster, settings):
    cluster_create(actor=None, name="no-registry", environment="test", order=1,
                   bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, registry_url="http://127.0.0.1:1",
                   reconcile_interval_seconds=5)

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["registry:no-registry"]["ok"] is False


def test_readyz_lets_only_the_required_checks_decide_and_still_reports_the_rest(cluster):
    cluster_create(actor=None, name="unreachable", environment="test", order=1, bootstrap_servers="127.0.0.1:1",
                   registry_url="http://127.0.0.1:1", reconcile_interval_seconds=5)

    web = Client().get("/readyz?require=database")
    platform = Client().get("/readyz?require=database,kafka")
    registries = Client().get("/readyz?require=registry:local")

    assert web.status_code == 200 and web.json()["checks"]["kafka:unreachable"]["ok"] is False
    assert platform.status_code == 503
    assert registries.status_code == 200
    assert Client().get("/readyz?require=nothing-by-that-name").status_code == 503


def test_probes_and_scrapes_by_pod_ip_over_http_are_answered_where_pages_are_refused(settings):
    settings.ALLOWED_HOSTS = ["portal.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    by_ip = Client(HTTP_HOST="10.1.2.3:8000")

    assert by_ip.get("/healthz").status_code == 200
    assert by_ip.get("/metrics").status_code == 200
    assert by_ip.get("/readyz?require=database").status_code == 200
    assert by_ip.get("/topics/").status_code == 400  # pages still insist on an allowed host
    assert Client(HTTP_HOST="portal.example.org").get("/topics/").status_code == 301  # and on HTTPS
