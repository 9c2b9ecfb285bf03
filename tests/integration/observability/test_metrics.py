"""/metrics reports what the workers did: resource counts by status and reconcile attempts from Postgres."""

import pytest
from django.test import Client

from onboarding.models import ResourceStatus
from onboarding.services.topics import topic_create
from portal.observability.metrics import ReconcileAttemptCollector
from tests.fixtures.waiting import wait_for_status
from tests.integration.observability.conftest import scrape

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_attempt_counts(monkeypatch):
    # Production keeps the aggregate for a few seconds; these tests compare two scrapes seconds apart.
    monkeypatch.setattr(ReconcileAttemptCollector, "cache_seconds", 0.0)


def _topics(metrics, status):
    return metrics.get(("portal_resources", (("kind", "topic"), ("status", status))), 0)


def _attempts(metrics, kind, outcome):
    return metrics.get(("portal_reconcile_attempts_total", (("kind", kind), ("outcome", outcome))), 0)


def test_a_reconciled_topic_shows_in_the_status_counts_and_the_attempt_counters(celery_worker, cluster, payments,
                                                                                alice, topic_name):
    before = scrape()
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("metrics"), partitions=1,
                         replication_factor=1)
    wait_for_status(topic, ResourceStatus.READY)

    after = scrape()

    assert _topics(after, "ready") == _topics(before, "ready") + 1
    assert _topics(after, "pending") == 0
    assert _attempts(after, "topic", "ready") == _attempts(before, "topic", "ready") + 1
    bucket_inf = ("portal_reconcile_duration_seconds_bucket", (("kind", "topic"), ("le", "+Inf"),
                                                               ("outcome", "ready")))
    assert after[bucket_inf] == _attempts(after, "topic", "ready")
    assert after[("portal_reconcile_duration_seconds_sum", (("kind", "topic"), ("outcome", "ready")))] >= 0
    # Every kind is listed with every live status, so a dashboard's series never disappear.
    for kind in ("topic", "schema", "service_account", "subscription"):
        assert ("portal_resources", (("kind", kind), ("status", "failed"))) in after
    assert ("portal_celery_queue_length", (("queue", "portal"),)) in after
    assert after[("portal_redis_up", ())] == 1


def test_request_and_database_metrics_of_the_web_process_are_served(cluster):
    Client().get("/accounts/login/")  # a page: probes are answered before the metrics middleware sees them
    metrics = scrape()
    names = {name for name, _labels in metrics}
    assert "django_http_requests_total_by_view_transport_method_total" in names
    assert any(name.startswith("django_db_execute_total") for name in names)


def test_a_configured_token_and_address_list_guard_the_metrics(settings):
    settings.METRICS_BEARER_TOKEN = "s3cret-token-for-scrapers"
    assert Client().get("/metrics").status_code == 403
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert Client().get("/metrics", headers={"Authorization": "Bearer s3cret-token-for-scrapers"}).status_code == 200

    settings.METRICS_BEARER_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert Client().get("/metrics").status_code == 403  # the test client comes from 127.0.0.1
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]
    assert Client().get("/metrics").status_code == 200


def test_the_routers_counters_in_redis_show_per_routed_subscription(cluster, reconciles_held, alice, carol, clinical,
                                                                   payments):
    from collections import Counter

    from onboarding.models import Subscription
    from onboarding.routing import traffic
    from onboarding.services.subscriptions import subscription_request
    from tests.integration.subscriptions.helpers import make_account, make_topic

    source = make_topic(carol, cluster, clinical)
    sub = subscription_request(actor=alice, subscriber=payments, source=source, mode=Subscription.Mode.ROUTED,
                               service_account=make_account(cluster, payments), reason="Billing needs admissions.",
                               destination_name=f"payments.copy-{source.pk}", via="api")
    traffic.reset(sub.pk)  # Redis outlives the test database, whose ids start again each run
    traffic.record_counts({str(sub.pk): Counter(routed=3, filtered_out=2, dead_lettered=1)})

    metrics = scrape()

    for outcome, n in (("routed", 3), ("filtered_out", 2), ("dead_lettered", 1)):
        assert metrics[("portal_subscription_events_total", (("outcome", outcome), ("subscription", str(sub.pk))))] == n
    assert metrics[("portal_resources", (("kind", "subscription"), ("status", "pending")))] == 1
    assert metrics[("portal_resources", (("kind", "topic"), ("status", "pending")))] == 2  # source and destination
