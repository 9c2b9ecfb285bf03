"""One trace from the API request through the service to the Celery task message it publishes."""

import pytest
from celery import signals
from rest_framework.test import APIClient

from onboarding.models import ApiToken
from onboarding.services.scheduling import clear_queued_mark
from tests.fixtures.tracing import span_id_of, trace_id_of
from tests.integration.api.conftest import TOPICS, new_name

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


def _create_topic_through_the_api(user, cluster):
    _, token = ApiToken.new(user=user, name="tests", scope=ApiToken.Scope.WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    clear_queued_mark(cluster.pk)  # so the change queues a task now rather than joining a queued run
    response = client.post(TOPICS, {"cluster": cluster.name, "team": "payments", "name": new_name(), "partitions": 1,
                                    "replication_factor": 1}, format="json")
    assert response.status_code == 201, response.content
    return response


def test_an_api_request_its_service_and_the_task_it_queues_share_one_trace(spans, published_headers, alice,
                                                                           cluster, payments):
    response = _create_topic_through_the_api(alice, cluster)

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
    # The worker logs under the id of the request that scheduled the task.
    assert headers["portal_request_id"] == response.headers["X-Request-ID"]


def test_without_tracing_no_span_is_recorded_and_no_trace_header_is_sent(published_headers, alice,
                                                                         cluster, payments):
    response = _create_topic_through_the_api(alice, cluster)
    (headers,) = [h for task, h in published_headers if task == "onboarding.reconcile_cluster"]
    assert "traceparent" not in headers
    assert headers["portal_request_id"] == response.headers["X-Request-ID"]
