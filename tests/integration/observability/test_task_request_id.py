"""A Celery task logs under the request id of the request that queued it, in the real worker process."""

import pytest
from rest_framework.test import APIClient

from onboarding.models import ApiToken, ResourceStatus, Topic
from onboarding.queue import Kind, clear_mark
from tests.fixtures.waiting import wait_for, wait_for_status
from tests.integration.api.conftest import TOPICS

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_logs_the_reconcile_under_the_id_of_the_api_request(celery_worker, cluster, payments, alice,
                                                                        topic_name, unique):
    _, token = ApiToken.new(user=alice, name="tests", scope=ApiToken.Scope.WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    clear_mark(Kind.TOPICS, cluster.pk)
    name, request_id = topic_name("request-id"), f"ci-req-{unique}"  # unique: the worker log outlives runs
    response = client.post(TOPICS, {"cluster": cluster.name, "team": "payments", "name": name, "partitions": 1,
                                    "replication_factor": 1}, format="json", headers={"X-Request-ID": request_id})
    assert response.status_code == 201, response.content
    assert response.headers["X-Request-ID"] == request_id
    wait_for_status(Topic.objects.get(name=name), ResourceStatus.READY)

    # The worker writes the portal's text format: "<time> <level> <logger> [<request id>] <message>".
    wait_for(lambda: f"[{request_id}] Task onboarding.reconcile_cluster" in celery_worker.log_path.read_text(
        errors="replace"), timeout=20, message="the task's log line with the request's id")
