"""Creates through a real WSGI server (Django's wsgiref-based live server, as runserver uses).

Django's test client hands headers over as they are; wsgiref (and gunicorn) accept only plain
``str`` values, so a ``Location`` that is DRF's ``Hyperlink`` passes the client and fails served.
"""

import json

import pytest
import requests

from onboarding.models import ApiToken, ResourceStatus, Schema, ServiceAccount, Subscription, Topic
from tests.fixtures.waiting import wait_for
from tests.integration.api.conftest import new_name
from tests.integration.subscriptions.helpers import make_account, make_topic

AVRO = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]})


SETTLED = (ResourceStatus.READY, ResourceStatus.DELETED)


def _work_in_flight() -> list[str]:
    """Rows a worker may still be reconciling: claimed, or waiting for their first apply."""
    return [f"{row._meta.model_name} {row.pk}: {row.status}"
            for model in (Topic, Schema, ServiceAccount, Subscription)
            for row in model.objects.all() if row.claim_token or row.status not in SETTLED]


@pytest.fixture
def served(live_server, alice, celery_worker):
    """``served(method, path, body)``: alice's bearer token over HTTP against the live server.

    A create schedules its reconcile; the worker applies it before the test ends, so no run still holds rows
    while the live server's database is flushed (a TRUNCATE under a running claim deadlocks)."""
    _, plain = ApiToken.new(user=alice, name="served", scope=ApiToken.Scope.WRITE)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {plain}"

    def call(method: str, path: str, body: dict | None = None) -> requests.Response:
        return session.request(method, f"{live_server.url}{path}", json=body, timeout=30, allow_redirects=False)

    yield call
    session.close()
    try:
        wait_for(lambda: not _work_in_flight(), message="the creates' reconciles to settle")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still in flight: {_work_in_flight()}") from None


def assert_created(answer: requests.Response, path: str) -> dict:
    assert answer.status_code == 201, answer.text[:500]
    body = answer.json()
    assert answer.headers["Location"].endswith(f"{path}{body['id']}/")
    return body


def test_a_topic_created_over_http_answers_201_with_its_location(served, cluster, payments, broker_topics):
    name = new_name()
    broker_topics.append(name)

    body = assert_created(served("POST", "/api/v1/topics/", {"cluster": "local", "team": "payments", "name": name,
                                                             "partitions": 1, "replication_factor": 1}),
                          "/api/v1/topics/")

    assert body["name"] == name


def test_a_service_account_created_over_http_answers_201_with_its_location(served, cluster, payments):
    body = assert_created(served("POST", "/api/v1/service-accounts/", {"cluster": "local", "team": "payments",
                                                                        "name": "served"}),
                          "/api/v1/service-accounts/")

    assert body["password"] and ServiceAccount.objects.filter(pk=body["id"]).exists()


def test_a_token_created_over_http_answers_201_with_its_location(served):
    body = assert_created(served("POST", "/api/v1/tokens/", {"name": "ci", "scope": "read"}), "/api/v1/tokens/")

    assert body["token"].startswith("pep_")


def test_a_subscription_created_over_http_answers_201_with_its_location(served, cluster, payments, carol, clinical):
    source = make_topic(carol, cluster, clinical)
    reader = make_account(cluster, payments)

    body = assert_created(served("POST", "/api/v1/subscriptions/", {
        "subscriber": "payments", "source": source.pk, "service_account": reader.pk, "mode": "direct",
        "reason": "Billing needs the admissions."}), "/api/v1/subscriptions/")

    assert body["decision"] == "approved"


def test_a_schema_created_over_http_answers_201_with_its_location(served, payments_topic, topic_name, subjects):
    topic = payments_topic(name=topic_name("served"), partitions=1)
    subjects.append(f"{topic.name}-value")

    body = assert_created(served("POST", "/api/v1/schemas/", {"topic": topic.pk, "format": "AVRO", "schema": AVRO}),
                          "/api/v1/schemas/")

    assert body["subject"] == f"{topic.name}-value"


def test_a_webhook_created_over_http_answers_201_with_its_location(served, payments):
    body = assert_created(served("POST", "/api/v1/webhooks/", {"team": "payments", "name": "ops",
                                                                "url": "https://hooks.example.org/portal",
                                                                "events": ["change_request.created"]}),
                          "/api/v1/webhooks/")

    assert body["secret"]
