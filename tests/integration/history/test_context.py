"""Each history event says who made the change, through what, and in which request or task."""

import pytest
from django.urls import reverse

from onboarding.history import present
from onboarding.history import tasks as task_signals
from onboarding.history.selectors import RESOURCE_TYPES, all_events
from onboarding.models import AuditEvent, Topic
from onboarding.tasks import reconcile_cluster
from tests.integration.admin.forms import changeform_data, form_errors
from tests.integration.history.conftest import latest_event, login

pytestmark = pytest.mark.django_db


def test_an_admin_edit_is_recorded_with_the_operator_the_request_and_before_after(client, operator, topic):
    login(client, operator)
    url = reverse("admin:onboarding_topic_change", args=[topic.pk])
    data = {**changeform_data(client.get(url)), "description": "Edited by an operator"}

    response = client.post(url, data, HTTP_X_REQUEST_ID="req-admin-0001")

    assert response.status_code == 302, form_errors(response)
    assert response["X-Request-ID"] == "req-admin-0001"
    event = latest_event(topic)
    assert event.pgh_label == "update"
    assert event.description == "Edited by an operator"
    context = event.pgh_context
    assert (context["via"], context["username"], context["user"]) == ("admin", "olivia", operator.pk)
    assert context["request_id"] == "req-admin-0001"
    assert (context["method"], context["path"]) == ("POST", url)
    [row] = all_events().filter(pgh_obj_model=RESOURCE_TYPES["topic"], pgh_obj_id=str(topic.pk), pgh_label="update")
    assert row.pgh_diff["description"] == ["", "Edited by an operator"]
    # The services' semantic record points at the same request.
    record = AuditEvent.objects.get(action="topic.update", resource_id=str(topic.pk))
    assert (record.request_id, record.context_id) == ("req-admin-0001", event.pgh_context_id)


def test_an_api_change_is_attributed_to_the_tokens_user(api_as, bob, topic):
    client = api_as(bob)
    url = f"/api/v1/topics/{topic.pk}/"
    etag = client.get(url)["ETag"]

    response = client.patch(url, {"description": "From CI"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    context = latest_event(topic).pgh_context
    assert (context["via"], context["username"], context["user"]) == ("api", "bob", bob.pk)
    assert context["token"] == response.wsgi_request.auth.key_id
    assert context["request_id"] == response["X-Request-ID"]
    # The service writes the row before its audit record: the action comes from the record of the same context.
    [row] = present.rows(all_events().filter(pgh_obj_model=RESOURCE_TYPES["topic"], pgh_obj_id=str(topic.pk),
                                             pgh_label="update"))
    assert (row["action"], row["actor"], row["via"]) == ("topic.update", "bob", "api")
    assert row["changes"] == {"description": ["", "From CI"], "generation": [1, 2]}


def test_a_malformed_request_id_is_replaced_by_a_fresh_one(client, alice):
    login(client, alice)
    response = client.get("/", HTTP_X_REQUEST_ID="bad id with spaces; drop table")
    assert response["X-Request-ID"] != "bad id with spaces; drop table"
    assert len(response["X-Request-ID"]) == 32


def test_a_raw_orm_update_outside_any_request_has_no_via(topic):
    Topic.objects.filter(pk=topic.pk).update(description="shell")
    assert latest_event(topic).pgh_context is None


def test_changes_made_while_a_task_runs_are_via_system_with_the_task_name(topic):
    task_signals.open_task_context(task_id="task-1", task=reconcile_cluster)
    try:
        Topic.objects.filter(pk=topic.pk).update(description="by a task")
    finally:
        task_signals.close_task_context(task_id="task-1")

    context = latest_event(topic).pgh_context
    assert (context["via"], context["task"], context["task_id"]) == ("system", "onboarding.reconcile_cluster",
                                                                       "task-1")
    assert context["username"] is None
