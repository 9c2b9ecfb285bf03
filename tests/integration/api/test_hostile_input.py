"""Plain but hostile input is a 400 that names what is wrong, never a 500: NUL characters in query
parameters, JSON nested thousands of levels deep (bodies, filters, sample events, schema texts), and
an unhandled exception under /api/ answers JSON, not Django's debug page."""

import json
import logging

import pytest
from django.test import Client

from onboarding.json_limits import MAX_JSON_DEPTH
from onboarding.models import Topic
from tests.integration.subscriptions.helpers import make_account, make_topic

pytestmark = pytest.mark.django_db
TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels."
DEEP_ARRAYS = "[" * 10_000 + "]" * 10_000
DEEP_FILTER = "(" * 5_00 + "value" + ")" * 5_00
AVRO = {"type": "record", "name": "Visit", "fields": [{"name": "id", "type": "string"}]}


def nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.fixture
def alice_api(api_as, alice, cluster):
    return api_as(alice)


@pytest.mark.parametrize("parameter", ["q", "team", "environment", "tag", "format"])
def test_a_nul_character_in_a_search_parameter_is_a_400_naming_it(alice_api, parameter):
    answer = alice_api.get("/api/v1/search/", {parameter: "pay\x00ments"})

    assert answer.status_code == 400
    assert answer.json() == {"errors": {parameter: ["Null characters are not allowed."]}}


@pytest.mark.parametrize("path", ["/api/v1/change-requests/?status=app%00lied", "/api/v1/topics/?team=pay%00",
                                  "/api/v1/audit/?actor=al%00ice"])
def test_a_nul_character_in_any_api_filter_is_a_400(alice_api, path):
    answer = alice_api.get(path)

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == [path.split("?")[1].split("=")[0]]


@pytest.mark.parametrize("parameter", ["q", "team", "tag"])
def test_a_nul_character_on_the_catalogue_page_is_a_400_page_naming_it(client, alice, parameter):
    client.force_login(alice)

    answer = client.get("/catalogue/", {parameter: "a\x00b"})

    assert answer.status_code == 400
    assert f"{parameter}: Null characters are not allowed." in answer.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/topics/", "/api/v1/tokens/", "/api/v1/subscriptions/",
                                  "/api/v1/subscriptions/test-filter/", "/api/v1/schemas/check/",
                                  "/api/v1/service-accounts/"])
def test_a_body_nested_ten_thousand_levels_deep_is_a_400(alice_api, path):
    answer = alice_api.generic("POST", path, DEEP_ARRAYS, content_type="application/json")

    assert answer.status_code == 400
    assert answer.json() == {"errors": {"non_field_errors": [TOO_DEEP]}}


def test_a_body_just_over_the_depth_limit_is_refused_and_one_at_it_is_read(alice_api):
    over = alice_api.post("/api/v1/subscriptions/test-filter/",
                          {"filter": "", "event": "{}", "headers": {"h": nested(MAX_JSON_DEPTH)}}, format="json")
    at = alice_api.post("/api/v1/subscriptions/test-filter/",
                        {"filter": "", "event": "{}", "headers": {"h": nested(MAX_JSON_DEPTH - 2)}}, format="json")

    assert over.json() == {"errors": {"non_field_errors": [TOO_DEEP]}}
    assert at.json() == {"errors": {"headers.h": ["Not a valid string."]}}  # read, then refused as not text


def test_a_deeply_nested_filter_is_a_filter_error_in_test_filter(alice_api):
    answer = alice_api.post("/api/v1/subscriptions/test-filter/", {"filter": DEEP_FILTER, "event": "{}"},
                            format="json")

    assert answer.status_code == 200
    assert answer.json()["matched"] is None
    assert "nested too deeply" in answer.json()["error"]


def test_a_deeply_nested_sample_event_is_an_error_in_test_filter(alice_api):
    answer = alice_api.post("/api/v1/subscriptions/test-filter/", {"filter": "value", "event": DEEP_ARRAYS},
                            format="json")

    assert answer.status_code == 200
    assert "nested too deeply" in answer.json()["error"]


def test_a_routed_subscription_with_a_deeply_nested_filter_is_a_400_on_filter(alice_api, cluster, payments, carol,
                                                                              clinical):
    source = make_topic(carol, cluster, clinical)
    reader = make_account(cluster, payments)

    answer = alice_api.post("/api/v1/subscriptions/", {
        "subscriber": "payments", "source": source.pk, "service_account": reader.pk, "mode": "routed",
        "destination_name": f"payments.copy-{source.pk}", "filter": DEEP_FILTER, "reason": "copies"},
        format="json")

    assert answer.status_code == 400
    assert "nested too deeply" in answer.json()["errors"]["filter"][0]


def test_changing_a_filter_to_a_deeply_nested_one_is_a_400_on_filter(alice_api, cluster, payments, carol, clinical,
                                                                     alice):
    source = make_topic(carol, cluster, clinical)
    reader = make_account(cluster, payments)
    created = alice_api.post("/api/v1/subscriptions/", {
        "subscriber": "payments", "source": source.pk, "service_account": reader.pk, "mode": "routed",
        "destination_name": f"payments.copy-{source.pk}", "filter": "value", "reason": "copies"}, format="json")
    assert created.status_code == 201, created.content

    answer = alice_api.patch(f"/api/v1/subscriptions/{created.json()['id']}/", {"filter": DEEP_FILTER},
                             format="json")

    assert answer.status_code == 400
    assert "nested too deeply" in answer.json()["errors"]["filter"][0]


@pytest.mark.parametrize("event", [DEEP_ARRAYS, json.dumps(nested(MAX_JSON_DEPTH + 1))])
def test_a_deeply_nested_event_text_is_a_problem_of_try_event(alice_api, make_schema, event):
    schema = make_schema(AVRO)

    answer = alice_api.post(f"/api/v1/schemas/{schema.pk}/try-event/", {"event": event}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["valid"] is False
    assert TOO_DEEP in answer.json()["problems"][0]["message"]


def test_a_deeply_nested_schema_text_is_a_problem_of_check(alice_api, payments):
    topic = Topic.objects.get(pk=alice_api.post("/api/v1/topics/", {
        "cluster": "local", "team": "payments", "name": "payments.deep-check", "partitions": 1,
        "replication_factor": 1}, format="json").json()["id"])

    answer = alice_api.post("/api/v1/schemas/check/", {"topic": topic.pk, "format": "JSON", "schema": DEEP_ARRAYS},
                            format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["acceptable"] is False
    assert any(TOO_DEEP in problem for problem in answer.json()["problems"])


@pytest.mark.urls("tests.integration.api.crashing_urls")
@pytest.mark.parametrize("debug", [True, False])
def test_an_unhandled_exception_under_the_api_is_json_and_logged_in_either_mode(settings, caplog, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        answer = client.get("/api/v1/crash/", HTTP_X_REQUEST_ID="crash-test-0001")

    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "The server failed to answer this request; it has been logged "
                                       "(request id crash-test-0001)."}
    assert answer["X-Request-ID"] == "crash-test-0001"
    logged = [record for record in caplog.records if record.exc_info]
    assert logged and "the view failed on purpose" in str(logged[0].exc_info[1])
