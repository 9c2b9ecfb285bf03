"""The OpenAPI document says what the API does: nullable fields, error answers, media types, and that
request bodies refuse unknown properties. Each claim is checked against a real answer too."""

import pytest
import yaml
from rest_framework.test import APIClient

from onboarding.api.serializers.topics import UNKNOWN_FIELD

pytestmark = pytest.mark.django_db
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def document(django_db_blocker):
    with django_db_blocker.unblock():
        return yaml.safe_load(APIClient().get("/api/schema/").content)


def operations(document):
    for path, entries in document["paths"].items():
        for method, operation in entries.items():
            if method in METHODS:
                yield path, method, operation


@pytest.fixture
def alice_api(api_as, alice, cluster):
    return api_as(alice)


def test_a_tokens_team_is_documented_nullable_and_is_null_for_a_personal_token(document, alice_api):
    team = document["components"]["schemas"]["ApiToken"]["properties"]["team"]

    answer = alice_api.post("/api/v1/tokens/", {"name": "ci"}, format="json")

    assert team["nullable"] is True
    assert answer.status_code == 201 and answer.json()["team"] is None


def test_every_operation_documents_the_errors_it_can_answer_with_the_error_schema(document):
    errors = "#/components/schemas/ValidationErrors"
    detail = "#/components/schemas/Detail"
    for path, method, operation in operations(document):
        responses = operation["responses"]
        expected = {"400": errors, "401": detail, "404": detail, "429": detail}
        if method != "get":
            expected["403"] = detail
        if "requestBody" in operation:
            expected["413"] = detail
        for code, ref in expected.items():
            assert code in responses, f"{method.upper()} {path} does not document {code}"
            assert responses[code]["content"]["application/json"]["schema"]["$ref"] == ref, (path, method, code)


def test_stale_generations_are_documented_where_they_are_answered(document):
    for method in ("put", "patch"):
        responses = document["paths"]["/api/v1/topics/{id}/"][method]["responses"]
        assert {"409", "412"} <= set(responses)
    assert "412" not in document["paths"]["/api/v1/topics/"]["post"]["responses"]


def test_the_audit_trails_csv_answer_is_documented(document):
    assert "text/csv" in document["paths"]["/api/v1/audit/"]["get"]["responses"]["200"]["content"]


def test_strict_request_bodies_declare_that_unknown_properties_are_refused(document):
    schemas = document["components"]["schemas"]
    strict = {name for name, shape in schemas.items() if shape.get("additionalProperties") is False}

    assert {"TopicCreateRequest", "TopicUpdateRequest", "PatchedTopicUpdateRequest", "ApiTokenCreateRequest",
            "SubscriptionRequestRequest", "FilterTestRequest", "SchemaSubmitRequest"} <= strict
    assert "ChangeRequest" not in strict  # a response component, whatever its name says
    # Fields a PUT may send back from a GET are accepted, so they are documented properties.
    assert {"id", "url", "status"} <= set(schemas["TopicUpdateRequest"]["properties"])


@pytest.mark.parametrize("path, body", [
    ("/api/v1/tokens/", {"name": "ci", "colour": "red"}),
    ("/api/v1/subscriptions/test-filter/", {"filter": "", "event": "{}", "colour": "red"}),
])
def test_an_unknown_property_is_refused_as_documented(alice_api, path, body):
    answer = alice_api.post(path, body, format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"]["colour"] == [UNKNOWN_FIELD]


@pytest.mark.parametrize("path, body, key, message", [
    ("/api/v1/subscriptions/test-filter/", {"filter": "", "event": "{}", "headers": {"trace": {}}}, "headers.trace",
     "Not a valid string."),
    ("/api/v1/topics/", {"cluster": "local", "team": "payments", "name": "payments.x", "tags": ["ok", {}]},
     "tags[1]", "Not a valid string."),
    ("/api/v1/webhooks/", {"team": "payments", "name": "ops", "url": "https://hooks.example.org/",
                           "events": [[]]}, "events[0]", "Not a valid string."),
])
def test_nested_field_errors_are_keyed_by_their_path(alice_api, path, body, key, message):
    answer = alice_api.post(path, body, format="json")

    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert errors[key] == [message]
    assert all(isinstance(messages, list) and all(isinstance(m, str) for m in messages)
               for messages in errors.values())


def test_peeking_at_a_topic_not_yet_on_the_cluster_is_a_documented_409(document, alice_api, payments_topic):
    topic = payments_topic()  # no worker runs: the topic is only a row, pending

    answer = alice_api.get(f"/api/v1/topics/{topic.pk}/peek/")

    assert answer.status_code == 409
    assert "not on the cluster" in answer.json()["detail"]
    assert "409" in document["paths"]["/api/v1/topics/{id}/peek/"]["get"]["responses"]
