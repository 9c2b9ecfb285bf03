"""Bad schema input answers 400 (413 for an oversized body) with the service's own words; a check
reports problems in a 200; other teams get 403, or 404 for a private topic. Nothing is stored."""

import json

import pytest
import yaml

from onboarding.models import Schema, Topic, TopicPolicy
from tests.integration.api.schema_helpers import AVRO_V1, SCHEMAS, check, submit

pytestmark = pytest.mark.django_db

AVRO_WITHOUT_NAME = {"type": "record", "fields": [{"name": "id", "type": "string"}]}


@pytest.fixture
def client(api_as, alice, cluster):
    return api_as(alice)


@pytest.fixture
def topic(schema_topic):
    return schema_topic()


def errors_of(answer) -> dict:
    assert answer.status_code == 400, answer.content
    return answer.json()["errors"]


def test_invalid_json_text_is_refused_naming_the_problem(client, topic):
    errors = errors_of(submit(client, topic, '{"type": "object", ', "JSON"))

    assert list(errors) == ["schema"] and errors["schema"][0]
    assert not Schema.objects.exists()


def test_an_avro_record_without_a_name_is_refused(client, topic):
    errors = errors_of(submit(client, topic, AVRO_WITHOUT_NAME))

    assert list(errors) == ["schema"]
    assert any("name" in message for message in errors["schema"]), errors


def test_an_unknown_format_is_refused_with_the_choices(client, topic):
    errors = errors_of(submit(client, topic, AVRO_V1, "XML"))

    assert errors == {"format": ["Unknown schema format 'XML'; choose AVRO, JSON or PROTOBUF."]}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"schema": 42}, {"schema": ["Send the schema as text, or as a JSON object or array."]}),
    ({"schemas": "{}"}, {"schemas": ["Unknown field; see the API schema for the fields this request accepts."]}),
    ({"topic": "orders"}, {"topic": ["A valid integer is required."]}),
], ids=["schema-a-number", "unknown-field", "topic-not-an-id"])
def test_malformed_requests_are_refused_by_shape(client, topic, overrides, expected):
    answer = client.post(SCHEMAS, {"topic": topic.pk, "format": "AVRO", "schema": AVRO_V1, **overrides},
                         format="json")

    assert errors_of(answer).items() >= expected.items()


def test_a_two_megabyte_schema_is_too_large(client, topic):
    huge = json.dumps({**AVRO_V1, "doc": "x" * (2 * 1024 * 1024)})

    answer = submit(client, topic, huge)

    assert answer.status_code == 413
    assert "The request body is larger than the API accepts" in answer.json()["detail"]
    assert not Schema.objects.exists()


def test_a_mode_the_cluster_forbids_is_refused(client, topic, cluster):
    TopicPolicy.objects.filter(cluster=cluster).update(forbidden_compatibilities=["NONE"])

    submitted = submit(client, topic, AVRO_V1, compatibility="NONE")
    checked = check(client, topic, AVRO_V1, compatibility="NONE")

    expected = {"compatibility": ["NONE is not allowed on the dev cluster local."]}
    assert errors_of(submitted) == errors_of(checked) == expected
    assert not Schema.objects.exists()


def test_a_check_reports_problems_in_its_answer_not_as_an_error(client, topic):
    answer = check(client, topic, '{"type": "object", ', "JSON")

    assert answer.status_code == 200, answer.content
    result = answer.json()
    assert (result["subject"], result["acceptable"], result["compatible"]) == (f"{topic.name}-value", False, None)
    assert result["problems"] and result["changes"] == [] and result["against_version"] is None


def test_a_first_version_checks_acceptable_under_the_cluster_default(client, topic):
    result = check(client, topic, AVRO_V1).json()

    assert (result["acceptable"], result["compatible"], result["mode"]) == (True, True, "BACKWARD")
    assert not Schema.objects.exists()


def test_another_team_cannot_change_a_public_topic_schema_and_does_not_see_a_private_one(
        api_as, carol, vera, schema_topic):
    public, private = schema_topic(), schema_topic(visibility=Topic.Visibility.PRIVATE)
    outsider, viewer = api_as(carol), api_as(vera)
    forbidden = {"detail": "Only owners and members of the topic's team can change its schemas."}

    assert submit(outsider, public, AVRO_V1).json() == check(outsider, public, AVRO_V1).json() == forbidden
    assert submit(outsider, public, AVRO_V1).status_code == check(outsider, public, AVRO_V1).status_code == 403
    assert submit(viewer, public, AVRO_V1).status_code == 403
    for answer in (submit(outsider, private, AVRO_V1), check(outsider, private, AVRO_V1)):
        assert (answer.status_code, answer.json()) == (404, {"detail": "No such topic."})
    unknown = submit(outsider, Topic(pk=10**9), AVRO_V1)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "No such topic."})
    assert not Schema.objects.exists()


def test_a_read_scope_token_cannot_submit(api_as, alice, topic):
    answer = submit(api_as(alice, scope="read"), topic, AVRO_V1)

    assert answer.status_code == 403
    assert not Schema.objects.exists()


def test_the_openapi_schema_documents_the_schema_endpoints(client):
    paths = set(yaml.safe_load(client.get("/api/schema/").content)["paths"])

    assert {"/api/v1/schemas/", "/api/v1/schemas/{id}/", "/api/v1/schemas/check/", "/api/v1/schemas/{id}/diff/",
            "/api/v1/schemas/{id}/try-event/", "/api/v1/schemas/{id}/versions/{number}/"} <= paths



def test_a_json_schema_the_registry_could_not_classify_is_refused_before_storing(client, topic):
    answer = check(client, topic, {"type": "string"}, "JSON")

    assert answer.status_code == 200, answer.content
    assert answer.json()["acceptable"] is False
    assert '"$schema"' in answer.json()["problems"][0]
    assert "$schema" in errors_of(submit(client, topic, {"type": "string"}, "JSON"))["schema"][0]
    assert not Schema.objects.exists()
