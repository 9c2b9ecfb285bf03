"""The schema admin: pages render, drift decisions and compatibility edits go through the services."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding.models import ApplyAttempt, AuditEvent, ResourceStatus, Schema, SchemaVersion
from onboarding.services.topics import policy_for
from tests.integration.admin.conftest import make_topic
from tests.integration.admin.forms import changeform_data, form_errors

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:onboarding_schema_changelist")
V1 = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]})
V2 = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"},
                                                                {"name": "note", "type": "string", "default": ""}]})
V3 = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"},
                                                                {"name": "note", "type": "string", "default": ""},
                                                                {"name": "n", "type": "long", "default": 0}]})


def _schema(topic, **fields):
    """A value schema with two registered versions, as the reconciler would have left it."""
    defaults = {"status": ResourceStatus.READY, "generation": 2, "observed_generation": 2,
                "compatibility": "BACKWARD", "ready_at": timezone.now()}
    schema = Schema.objects.create(topic=topic, side="value", **{**defaults, **fields})
    for number, text in enumerate([V1, V2], start=1):
        SchemaVersion.objects.create(schema=schema, number=number, text=text, fingerprint=f"f{number}",
                                     registry_id=100 + number, registry_version=number, registered_at=timezone.now())
    return schema


@pytest.fixture
def ready_schema(ready_topic):
    return _schema(ready_topic)


@pytest.fixture
def drifted_schema(cluster, payments):
    topic = make_topic(cluster, payments, name="payments.refunds")
    extra = {"version": 3, "id": 103, "schema": V3, "schemaType": "AVRO"}
    return _schema(topic, status=ResourceStatus.DRIFTED,
                   drift={"versions": {"desired": [1, 2], "observed": [1, 2, 3]}},
                   observed={"exists": True, "versions": [1, 2, 3], "compatibility": "BACKWARD",
                             "effective_compatibility": "BACKWARD", "extra": [extra]},
                   last_error="Changed outside the portal: version(s) 3 registered outside the portal.")


def _act(client, action, *schemas):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [s.pk for s in schemas]}, follow=True)


def _edit(client, schema, **changes):
    url = reverse("admin:onboarding_schema_change", args=[schema.pk])
    return client.post(url, {**changeform_data(client.get(url)), **changes})


def _audit(schema, action):
    return AuditEvent.objects.get(resource_type="schema", resource_id=str(schema.pk), action=action)


def test_the_changelist_lists_subjects_and_filters_render(operator_client, cluster, ready_schema, drifted_schema):
    response = operator_client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    assert b"payments.orders-value" in response.content and b"payments.refunds-value" in response.content

    for query in ({"status__exact": "drifted"}, {"format__exact": "AVRO"}, {"compatibility__exact": "BACKWARD"},
                  {"topic__cluster__id__exact": cluster.pk}, {"q": "refunds"}):
        response = operator_client.get(CHANGELIST, query)
        assert response.status_code == 200, query
    assert [s.pk for s in operator_client.get(CHANGELIST, {"q": "refunds"}).context["cl"].result_list] \
        == [drifted_schema.pk]


def test_the_change_page_shows_the_versions_read_only(operator_client, ready_schema):
    response = operator_client.get(reverse("admin:onboarding_schema_change", args=[ready_schema.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<pre style=") == 2
    assert "&quot;note&quot;" in body  # version 2's text, escaped inside the monospace block
    assert 'name="versions-0-text"' not in body


def test_schemas_cannot_be_added_or_deleted_as_rows(operator_client, ready_schema):
    assert operator_client.get(reverse("admin:onboarding_schema_add")).status_code == 403
    assert operator_client.get(reverse("admin:onboarding_schema_delete", args=[ready_schema.pk])).status_code == 403
    actions = [name for name, _ in operator_client.get(CHANGELIST).context["action_form"].fields["action"].choices]
    assert "adopt_drift" in actions and "revert_drift" in actions and "delete_selected" not in actions


def test_adopt_takes_the_registrys_versions_and_is_audited(operator_client, operator, drifted_schema):
    response = _act(operator_client, "adopt_drift", drifted_schema)

    assert response.status_code == 200
    drifted_schema.refresh_from_db()
    assert drifted_schema.status == ResourceStatus.READY and drifted_schema.drift is None
    assert list(drifted_schema.versions.values_list("registry_version", flat=True)) == [1, 2, 3]
    event = _audit(drifted_schema, "schema.drift.adopt")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)


def test_revert_queues_the_desired_state_again(operator_client, operator, drifted_schema):
    _act(operator_client, "revert_drift", drifted_schema)

    drifted_schema.refresh_from_db()
    assert drifted_schema.status == ResourceStatus.PENDING
    assert drifted_schema.versions.count() == 2
    event = _audit(drifted_schema, "schema.drift.revert")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)


def test_a_schema_without_drift_is_refused_and_the_others_still_change(operator_client, ready_schema,
                                                                        drifted_schema):
    response = _act(operator_client, "revert_drift", ready_schema, drifted_schema)

    texts = [str(m) for m in response.context["messages"]]
    assert any("payments.orders-value" in t and "no drift" in t for t in texts), texts
    assert any("Reverting the drift of 1 schema" in t for t in texts), texts
    ready_schema.refresh_from_db()
    assert ready_schema.status == ResourceStatus.READY


def test_a_compatibility_change_goes_through_the_service_and_is_audited(
        operator_client, operator, ready_schema, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as scheduled:
        response = _edit(operator_client, ready_schema, compatibility="FULL")

    assert response.status_code == 302, form_errors(response)
    assert len(scheduled) == 1
    ready_schema.refresh_from_db()
    assert ready_schema.compatibility == "FULL"
    assert (ready_schema.generation, ready_schema.status) == (3, ResourceStatus.PENDING)
    event = _audit(ready_schema, "schema.compatibility")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)
    assert (event.before, event.after) == ({"compatibility": "BACKWARD"}, {"compatibility": "FULL"})


def test_a_mode_the_clusters_policy_forbids_is_refused_on_the_form(operator_client, cluster, ready_schema):
    policy = policy_for(cluster)
    policy.forbidden_compatibilities = ["NONE"]
    policy.save()

    response = _edit(operator_client, ready_schema, compatibility="NONE")

    assert response.status_code == 200
    errors = form_errors(response)
    assert any("NONE is not allowed" in m for m in errors["compatibility"]), errors
    ready_schema.refresh_from_db()
    assert (ready_schema.compatibility, ready_schema.generation) == ("BACKWARD", 2)
    assert not AuditEvent.objects.filter(action="schema.compatibility").exists()


def test_apply_attempts_of_a_schema_show_the_subject(operator_client, ready_topic, ready_schema):
    ApplyAttempt.objects.create(topic=ready_topic, schema=ready_schema, generation=2,
                                outcome=ApplyAttempt.Outcome.READY, actions=["register version 1"],
                                started_at=timezone.now(), duration_ms=5, run_id="run-s")

    listing = operator_client.get(reverse("admin:onboarding_applyattempt_changelist"),
                                  {"schema__id__exact": ready_schema.pk})
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    assert b"payments.orders-value" in listing.content
    topic_page = operator_client.get(reverse("admin:onboarding_topic_change", args=[ready_topic.pk]))
    assert b"payments.orders-value" in topic_page.content
    schema_page = operator_client.get(reverse("admin:onboarding_schema_change", args=[ready_schema.pk]))
    assert b"register version 1" in schema_page.content
