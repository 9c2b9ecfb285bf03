"""One trace from the API request through the service to the Celery task message it publishes, and from a
task to the admin calls it makes."""

import pytest
from celery import signals
from django.test import Client
from opentelemetry import trace
from rest_framework.test import APIClient

from onboarding.models import ApiToken, ResourceStatus, Topic
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.platform.registry import Registry
from onboarding.queue import Kind, clear_mark
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.services.topics import topic_create
from tests.fixtures.tracing import span_id_of, trace_id_of
from tests.fixtures.waiting import wait_for_status
from tests.integration.api.conftest import TOPICS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published_headers():
    """The headers of every task message published during the test, as the broker receives them."""
    seen = []

    def record(sender=None, headers=None, **_kwargs):
        seen.append((sender, dict(headers or {})))

    # Connected after the Celery instrumentation's own receiver, so the trace context is in already.
    signals.before_task_publish.connect(record, weak=False, dispatch_uid="test-published-headers")
    yield seen
    signals.before_task_publish.disconnect(dispatch_uid="test-published-headers")


def _create_topic_through_the_api(user, cluster, name):
    _, token = ApiToken.new(user=user, name="tests", scope=ApiToken.Scope.WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    clear_mark(Kind.TOPICS, cluster.pk)  # so the change queues a task now rather than joining a queued run
    response = client.post(TOPICS, {"cluster": cluster.name, "team": "payments", "name": name, "partitions": 1,
                                    "replication_factor": 1}, format="json")
    assert response.status_code == 201, response.content
    # The worker applies it before the test ends, so nothing is left running against the test database.
    wait_for_status(Topic.objects.get(name=name), ResourceStatus.READY)
    return response


def test_an_api_request_its_service_and_the_task_it_queues_share_one_trace(spans, published_headers, celery_worker,
                                                                           alice, cluster, payments, topic_name):
    response = _create_topic_through_the_api(alice, cluster, topic_name("api"))

    finished = spans.get_finished_spans()
    (request,) = [s for s in finished if s.kind.name == "SERVER"]
    (service,) = [s for s in finished if s.name == "service.topic_create"]
    (publish,) = [s for s in finished if s.kind.name == "PRODUCER" and "onboarding.reconcile_cluster" in s.name]
    assert trace_id_of(service) == trace_id_of(request) == trace_id_of(publish)
    assert service.parent.span_id == request.context.span_id
    assert publish.parent.span_id == service.context.span_id

    (headers,) = [h for task, h in published_headers if task == "onboarding.reconcile_cluster"]
    version, trace_id, parent_id, _flags = headers["traceparent"].split("-")
    assert (trace_id, parent_id) == (trace_id_of(publish), span_id_of(publish))
    # The worker logs under the id of the request that scheduled the task (django-guid's task header).
    assert headers["X-Request-ID"] == response.headers["X-Request-ID"]


def test_without_tracing_no_span_is_recorded_and_no_trace_header_is_sent(published_headers, celery_worker, alice,
                                                                         cluster, payments, topic_name):
    response = _create_topic_through_the_api(alice, cluster, topic_name("api"))
    (headers,) = [h for task, h in published_headers if task == "onboarding.reconcile_cluster"]
    assert "traceparent" not in headers
    assert headers["X-Request-ID"] == response.headers["X-Request-ID"]


def test_a_reconcile_run_inside_a_task_span_traces_each_admin_call(spans, cluster, reconciles_held, payments, alice,
                                                                  topic_name):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("traced"), partitions=1,
                         replication_factor=1)
    # What the worker's Celery instrumentation opens around a task, here in this process.
    with trace.get_tracer("test").start_as_current_span("run/onboarding.reconcile_cluster") as task:
        reconcile_cluster(cluster.pk)
        with Registry() as registry:
            registry.ping()

    topic.refresh_from_db()
    assert topic.status == "ready"
    finished = {s.name: s for s in spans.get_finished_spans()}
    for name in ("kafka.admin.describe_topics", "kafka.admin.create_topics", "registry.ping"):
        assert finished[name].parent.span_id == task.context.span_id, name
        assert finished[name].kind.name == "CLIENT"
    (http,) = [s for s in finished.values() if s.kind.name == "CLIENT" and s.name == "GET"]
    assert http.parent.span_id == finished["registry.ping"].context.span_id  # requests' span under the adapter's


def test_adapter_calls_outside_a_trace_make_no_spans(spans, cluster):
    KafkaAdmin(timeout=5).ping()
    assert not [s for s in spans.get_finished_spans() if s.name.startswith("kafka.admin")]


def test_probes_and_scrapes_make_no_spans(spans, cluster):
    spans.clear()  # the fixtures' own queries, when they opened a new (traced) database connection
    client = Client()
    assert [client.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")] == [200, 200, 200]
    assert spans.get_finished_spans() == ()
