"""Tagging schema fields as sensitive through the API and the browser: same rules, same words, audited."""

import json

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, SensitiveField
from onboarding.services.schemas import schema_version_submit
from onboarding.services.topics import topic_create
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db

ADMISSION = {"type": "record", "name": "Admission", "namespace": "payments.tags", "fields": [
    {"name": "id", "type": "string"},
    {"name": "patient", "type": {"type": "record", "name": "Patient", "fields": [
        {"name": "name", "type": "string"}, {"name": "ssn", "type": "string", "doc": "Social security number"}]}},
]}


@pytest.fixture
def schema(alice, cluster, payments, topic_name):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("tags"), partitions=1,
                         replication_factor=1)
    return schema_version_submit(actor=alice, topic=topic, side="value", fmt="AVRO", text=json.dumps(ADMISSION)).schema


def url(schema) -> str:
    return f"/api/v1/schemas/{schema.pk}/sensitive-fields/"


def page(client, schema) -> str:
    return client.get(reverse("onboarding:topic_detail", args=[schema.topic.pk]) + "?tab=schemas").content.decode()


def test_a_field_tagged_through_the_api_shows_as_a_badge_on_the_topic_page(api_as, client_for, alice, vera, schema):
    response = api_as(alice).post(url(schema), {"path": "patient.ssn", "classification": "phi", "note": "US SSN"},
                                  format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["path"] == "patient.ssn" and response.json()["tagged_by"] == "alice"
    html = page(client_for(vera), schema)
    row = html.split('data-path="patient.ssn"')[1].split("</tr>")[0]
    assert 'data-testid="sensitive-badge"' in row and "PHI" in row
    assert "Social security number" in row and "sensitive-badge" not in html.split('data-path="patient.name"')[1] \
        .split("</tr>")[0]
    assert [t["path"] for t in api_as(vera).get(url(schema)).json()] == ["patient.ssn"]
    event = AuditEvent.objects.get(action="schema.sensitive_field.set")
    assert event.actor == alice and event.via == "api" and event.after["classification"] == "phi"


def test_a_path_missing_from_the_schema_is_a_field_error_with_the_same_words_in_api_and_form(api_as, client_for,
                                                                                           alice, schema):
    response = api_as(alice).post(url(schema), {"path": "patient.snn", "classification": "phi"}, format="json")
    form = client_for(alice).post(reverse("onboarding:sensitive_field", args=[schema.topic.pk, "value"]),
                                  {"path": "patient.snn", "classification": "phi"})

    assert response.status_code == 400
    message = response.json()["errors"]["path"][0]
    assert "has no field 'patient.snn'" in message and "did you mean 'patient.ssn'" in message
    assert form.status_code == 400
    assert message.replace("'", "&#x27;") in form.content.decode()
    assert not SensitiveField.objects.exists()


def test_the_htmx_select_tags_and_untags_a_field(client_for, bob, schema):
    client = client_for(bob)
    action = reverse("onboarding:sensitive_field", args=[schema.topic.pk, "value"])

    tagged = client.post(action, {"path": "patient.name", "classification": "pii"}, **htmx_to("topic-fields"))
    assert tagged.status_code == 200
    assert "PII" in tagged.content.decode().split('data-path="patient.name"')[1].split("</tr>")[0]

    untagged = client.post(action, {"path": "patient.name", "classification": ""}, **htmx_to("topic-fields"))
    assert "sensitive-badge" not in untagged.content.decode()
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="schema.sensitive").order_by("at", "id")] \
        == ["schema.sensitive_field.set", "schema.sensitive_field.clear"]


def test_viewers_and_other_teams_cannot_tag(api_as, client_for, vera, carol, schema):
    body = {"path": "patient.ssn", "classification": "phi"}

    assert api_as(vera).post(url(schema), body, format="json").status_code == 403
    assert api_as(carol).post(url(schema), body, format="json").status_code == 403
    assert client_for(carol).post(reverse("onboarding:sensitive_field", args=[schema.topic.pk, "value"]),
                                  body).status_code == 403
    assert not SensitiveField.objects.exists()


def test_an_unknown_classification_and_deleting_a_tag(api_as, alice, schema):
    client = api_as(alice)

    refused = client.post(url(schema), {"path": "patient.ssn", "classification": "top-secret"}, format="json")
    client.post(url(schema), {"path": "patient.ssn", "classification": "secret"}, format="json")
    deleted = client.delete(url(schema) + "?path=patient.ssn")
    again = client.delete(url(schema) + "?path=patient.ssn")

    assert refused.status_code == 400 and "Choose one of phi, pii" in refused.json()["errors"]["classification"][0]
    assert deleted.status_code == 204 and again.status_code == 404
    assert not SensitiveField.objects.exists()


def test_operators_see_the_tags_in_the_admin_without_changing_them_there(client_for, operator, alice, schema):
    from onboarding.services.sensitivity import sensitive_field_set

    sensitive_field_set(actor=alice, schema=schema, path="patient.ssn", classification="phi")

    html = client_for(operator).get(reverse("admin:onboarding_schema_change", args=[schema.pk])).content.decode()

    section = html.split("Sensitive fields")[1]
    assert "patient.ssn" in section and "PHI (protected health information)" in section
    assert 'name="sensitive_fields-0-path"' not in html  # read-only: no input to change it


def test_a_put_replaces_the_whole_set_or_nothing(api_as, alice, schema):
    client = api_as(alice)
    client.post(url(schema), {"path": "patient.name", "classification": "pii"}, format="json")

    refused = client.put(url(schema), {"fields": [{"path": "patient.ssn", "classification": "phi"},
                                                  {"path": "patient.nope", "classification": "phi"},
                                                  {"classification": "phi"}]}, format="json")
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert "has no field 'patient.nope'" in errors["fields[1].path"][0] and "fields[2].path" in errors
    assert list(SensitiveField.objects.values_list("path", flat=True)) == ["patient.name"]

    replaced = client.put(url(schema), {"fields": [{"path": "patient.ssn", "classification": "phi",
                                                    "note": "national id"}]}, format="json")
    assert replaced.status_code == 200, replaced.json()
    assert [(t["path"], t["classification"], t["note"]) for t in replaced.json()] == [("patient.ssn", "phi",
                                                                                      "national id")]
    assert list(AuditEvent.objects.filter(action__startswith="schema.sensitive").order_by("at", "id")
                .values_list("action", flat=True)) == ["schema.sensitive_field.set", "schema.sensitive_field.clear",
                                                       "schema.sensitive_field.set"]
