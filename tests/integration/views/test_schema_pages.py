"""The schema pages: who sees and changes what, the editor's check and submit, the compatibility form,
compare and "try an event"; bad input is a message on the page, never a 500."""

import json
import re

import pytest
from django.urls import reverse

from onboarding.models import ResourceStatus, Schema, SchemaVersion
from onboarding.schemas.validation import fingerprint
from tests.integration.views.htmx import HTMX, htmx_to

pytestmark = pytest.mark.django_db

V1 = {"type": "record", "name": "Admission", "namespace": "payments.test",
      "fields": [{"name": "patient_id", "type": "string"}, {"name": "ward", "type": "string"}]}
V2 = {**V1, "fields": V1["fields"] + [{"name": "bed", "type": ["null", "string"], "default": None}]}
# Line 3 lacks its comma: the JSON parser stops at line 4.
BROKEN_AVRO = '{\n  "type": "record",\n  "name": "Admission"\n  "fields": []\n}\n'


def url(name, topic, side="value"):
    return reverse(f"onboarding:{name}", args=[topic.pk, side])


def errors_of(html: str, field: str) -> list[str]:
    match = re.search(rf'<ul class="errorlist" id="err-{re.escape(field)}"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"no error list for {field}"
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def plain(html: str) -> str:
    """The text a person reads: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def stored_schema(topic, *texts, status=ResourceStatus.READY, compatibility="BACKWARD") -> Schema:
    """Desired state as the worker would leave it: versions stored and registered."""
    schema = Schema.objects.create(topic=topic, side="value", format="AVRO", compatibility=compatibility,
                                   status=status, observed_generation=1)
    for number, text in enumerate(texts, start=1):
        raw = json.dumps(text, indent=2)
        SchemaVersion.objects.create(schema=schema, number=number, text=raw, fingerprint=fingerprint(raw, "AVRO"),
                                     registry_id=100 + number, registry_version=number, note=f"note {number}")
    return schema


def editor_data(text, **extra):
    return {"format": "AVRO", "compatibility": "", "text": text, "note": "", **extra}


# ---------------------------------------------------------------------------------------------- permissions

def test_the_topic_page_offers_add_schema_to_writers_only(client_for, alice, carol, public_topic):
    schemas_tab = reverse("onboarding:topic_detail", args=[public_topic.pk]) + "?tab=schemas"
    mine = client_for(alice).get(schemas_tab).content.decode()
    theirs = client_for(carol).get(schemas_tab).content.decode()

    assert 'data-testid="add-schema-value"' in mine and 'data-testid="add-schema-key"' in mine
    assert "payments.orders-value" in theirs
    assert "Add schema" not in theirs


def test_an_outsider_reads_a_public_topics_history_without_the_editor(client_for, carol, public_topic):
    stored_schema(public_topic, V1, V2)

    response = client_for(carol).get(url("schema_page", public_topic))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-version="2"' in html and 'data-version="1"' in html
    assert "id 102 · version 2" in html
    assert 'id="editor"' not in html and "Change mode" not in html


@pytest.mark.parametrize("name", ["schema_page", "schema_check", "schema_compatibility"])
def test_an_outsider_cannot_submit_check_or_change_the_mode(client_for, carol, public_topic, name):
    schema = stored_schema(public_topic, V1)

    response = client_for(carol).post(url(name, public_topic), {**editor_data(json.dumps(V2)),
                                                                "compatibility": "NONE"})

    assert response.status_code == 403
    assert schema.versions.count() == 1
    schema.refresh_from_db()
    assert schema.compatibility == "BACKWARD"


def test_a_viewer_of_the_team_gets_no_editor_and_a_403_on_submit(client_for, vera, public_topic):
    page = client_for(vera).get(url("schema_page", public_topic)).content.decode()
    refused = client_for(vera).post(url("schema_page", public_topic), editor_data(json.dumps(V1)))

    assert 'id="editor"' not in page
    assert refused.status_code == 403
    assert not Schema.objects.exists()


@pytest.mark.parametrize("method, name", [("get", "schema_page"), ("post", "schema_page"), ("post", "schema_check"),
                                          ("post", "schema_compatibility"), ("get", "schema_compare"),
                                          ("post", "schema_event")])
def test_a_private_topic_of_another_team_is_not_found(client_for, carol, private_topic, method, name):
    stored_schema(private_topic, V1)

    response = getattr(client_for(carol), method)(url(name, private_topic), editor_data(json.dumps(V2)))

    assert response.status_code == 404
    assert private_topic.name not in response.content.decode()


def test_an_unknown_side_is_not_found(client_for, alice, public_topic):
    assert client_for(alice).get(url("schema_page", public_topic, side="header")).status_code == 404


# ---------------------------------------------------------------------------------------------- check and submit

def test_check_shows_the_problems_of_invalid_avro_with_their_line(client_for, alice, public_topic):
    response = client_for(alice).post(url("schema_check", public_topic), editor_data(BROKEN_AVRO),
                                      **htmx_to("schema-check"))

    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert 'data-testid="check-problems"' in html
    assert re.search(r"line 4", html), html
    assert not Schema.objects.exists()


def test_check_of_an_unknown_format_shows_the_services_message(client_for, alice, public_topic):
    response = client_for(alice).post(url("schema_check", public_topic),
                                      editor_data(json.dumps(V1), format="XML"), **HTMX)

    assert response.status_code == 200
    assert "Unknown schema format &#x27;XML&#x27;; choose AVRO, JSON or PROTOBUF." in response.content.decode()


def test_a_refused_submit_shows_the_services_errors_next_to_the_editor(client_for, alice, public_topic):
    response = client_for(alice).post(url("schema_page", public_topic), editor_data(BROKEN_AVRO, note="first"))

    html = response.content.decode()
    assert response.status_code == 400
    assert errors_of(html, "text") and "line 4" in " ".join(errors_of(html, "text"))
    assert "&quot;name&quot;: &quot;Admission&quot;" in html  # the text is kept for fixing
    assert not Schema.objects.exists()


def test_a_new_version_is_refused_while_the_previous_one_is_being_registered(client_for, alice, public_topic):
    stored_schema(public_topic, V1, status=ResourceStatus.PENDING)

    response = client_for(alice).post(url("schema_page", public_topic), editor_data(json.dumps(V2)))

    assert response.status_code == 400
    assert "still being applied" in " ".join(errors_of(response.content.decode(), "text"))


def test_the_format_is_fixed_once_the_subject_exists(client_for, alice, public_topic):
    stored_schema(public_topic, V1, status=ResourceStatus.PENDING)

    html = client_for(alice).get(url("schema_page", public_topic)).content.decode()

    assert re.search(r'<select name="format"[^>]*disabled', html)


@pytest.mark.parametrize("name", ["schema_page", "schema_check", "schema_event"])
def test_two_megabytes_of_text_are_refused_with_a_message(client_for, alice, public_topic, name):
    stored_schema(public_topic, V1)
    huge = "x" * (2 * 1024 * 1024)

    response = client_for(alice).post(url(name, public_topic), {**editor_data(huge), "event": huge}, **HTMX)

    assert response.status_code in (200, 400)
    assert "larger than the portal accepts" in response.content.decode()
    assert Schema.objects.get().versions.count() == 1


def test_a_nul_character_is_a_field_error_not_a_database_error(client_for, alice, public_topic):
    response = client_for(alice).post(url("schema_page", public_topic), editor_data(json.dumps(V1) + "\x00"))

    assert response.status_code == 400
    assert errors_of(response.content.decode(), "text") == ["Null characters are not allowed."]


def test_text_over_the_editors_limit_is_a_field_error(client_for, alice, public_topic):
    response = client_for(alice).post(url("schema_page", public_topic), editor_data(" " * 300_000))

    assert response.status_code == 400
    assert errors_of(response.content.decode(), "text")[0].startswith("Ensure this value has at most 200000")


def test_a_valid_first_version_is_stored_and_the_browser_sent_to_the_schema_page(client_for, alice, public_topic,
                                                                                  registry_http, registry_url):
    subject = f"{public_topic.name}-value"
    try:
        response = client_for(alice).post(url("schema_page", public_topic),
                                          editor_data(json.dumps(V1, indent=2), note="admissions"))

        assert response.status_code == 302, response.content.decode()
        assert response["Location"] == url("schema_page", public_topic)
        schema = Schema.objects.get()
        assert (schema.status, schema.compatibility) == (ResourceStatus.PENDING, "BACKWARD")
        assert list(schema.versions.values_list("number", "note", "author__username")) == [(1, "admissions", "alice")]
        page = client_for(alice).get(url("schema_page", public_topic)).content.decode()
        assert "not registered yet" in page and 'data-testid="status-badge">Pending' in page
    finally:
        registry_http.delete(f"{registry_url}/subjects/{subject}")
        registry_http.delete(f"{registry_url}/subjects/{subject}?permanent=true")


# ---------------------------------------------------------------------------------------------- compatibility

def test_the_compatibility_form_refuses_a_forbidden_mode(client_for, alice, public_topic, cluster):
    schema = stored_schema(public_topic, V1)
    policy = cluster.topic_policy
    policy.forbidden_compatibilities = ["NONE"]
    policy.save()

    page = client_for(alice).get(url("schema_page", public_topic)).content.decode()
    response = client_for(alice).post(url("schema_compatibility", public_topic), {"compatibility": "NONE"})

    assert "NONE (not allowed here)" in page
    assert response.status_code == 400
    assert errors_of(response.content.decode(), "compatibility") == [
        f"NONE is not allowed on the {cluster.environment} cluster {cluster.name}."]
    schema.refresh_from_db()
    assert (schema.compatibility, schema.status) == ("BACKWARD", ResourceStatus.READY)


def test_an_allowed_mode_is_saved_and_applied(client_for, alice, public_topic):
    schema = stored_schema(public_topic, V1)

    response = client_for(alice).post(url("schema_compatibility", public_topic), {"compatibility": "FULL"}, **HTMX)

    assert response.status_code == 204
    assert response["HX-Location"] == url("schema_page", public_topic)
    schema.refresh_from_db()
    assert (schema.compatibility, schema.status) == ("FULL", ResourceStatus.PENDING)


# ---------------------------------------------------------------------------------------------- compare, events, status

def test_compare_lists_the_changes_between_two_versions(client_for, carol, public_topic):
    stored_schema(public_topic, V1, V2)

    response = client_for(carol).get(url("schema_compare", public_topic) + "?old=1&new=2", **htmx_to("schema-diff"))

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<li class="change added" data-kind="field_added">[^<]*Admission\.bed added', html), html


@pytest.mark.parametrize("query", ["old=1&new=9", "old=x&new=", "", "old=1&new=99999999999999999999999"])
def test_compare_with_bad_numbers_says_so(client_for, alice, public_topic, query):
    stored_schema(public_topic, V1, V2)

    response = client_for(alice).get(url("schema_compare", public_topic) + "?" + query)

    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()


def test_trying_events_shows_valid_or_each_problem_with_its_path(client_for, carol, public_topic):
    stored_schema(public_topic, V1, V2)
    client = client_for(carol)

    valid = client.post(url("schema_event", public_topic), {"event": json.dumps({"patient_id": "p1", "ward": "A"}),
                                                            "version": "1"}, **HTMX).content.decode()
    wrong = client.post(url("schema_event", public_topic), {"event": json.dumps({"patient_id": 7, "ward": "A"}),
                                                            "version": ""}, **HTMX).content.decode()
    broken = client.post(url("schema_event", public_topic), {"event": "{not json", "version": "nine"}, **HTMX)

    assert "Valid against v1" in plain(valid)
    assert "Invalid against v2 $.patient_id expected string" in plain(wrong)
    assert broken.status_code == 200 and "errorlist" in broken.content.decode()


def test_invalid_json_in_an_event_is_reported_not_raised(client_for, alice, public_topic):
    stored_schema(public_topic, V1)

    response = client_for(alice).post(url("schema_event", public_topic), {"event": "{not json"}, **HTMX)

    assert response.status_code == 200
    assert "The event is not valid JSON" in plain(response.content.decode())


def test_the_status_fragment_polls_while_settling_and_announces_when_settled(client_for, alice, public_topic):
    schema = stored_schema(public_topic, V1, status=ResourceStatus.PENDING)
    client = client_for(alice)

    settling = client.get(url("schema_page", public_topic), **htmx_to("schema-status"))
    Schema.objects.filter(pk=schema.pk).update(status=ResourceStatus.READY)
    settled = client.get(url("schema_page", public_topic), **htmx_to("schema-status"))
    badge = client.get(url("schema_page", public_topic), **htmx_to("schema-badge-value"))

    assert 'hx-trigger="every 2s"' in settling.content.decode() and "HX-Trigger" not in settling
    assert settled["HX-Trigger"] == "schema-settled" and "every 2s" not in settled.content.decode()
    assert 'data-testid="schema-status-value">Ready' in badge.content.decode()


def test_a_submit_after_the_topic_went_into_deletion_shows_why(client_for, alice, public_topic):
    type(public_topic).objects.filter(pk=public_topic.pk).update(status=ResourceStatus.DELETING)

    page = client_for(alice).get(url("schema_page", public_topic)).content.decode()
    response = client_for(alice).post(url("schema_page", public_topic), editor_data(json.dumps(V1)))

    assert 'id="editor"' not in page
    assert response.status_code == 400
    assert errors_of(response.content.decode(), "form") == ["The topic is deleted or being deleted."]
    assert not Schema.objects.exists()
