"""/api/v1/aggregations/ on Postgres: field-level errors, permissions, a private topic refused to an outsider,
versions on change, deletion; bad input is a 4xx, never a 500."""

import pytest

from onboarding.models import Aggregation, Subscription
from tests.integration.aggregations.helpers import with_value_schema

pytestmark = pytest.mark.django_db
AGGS = "/api/v1/aggregations/"


def body(topic, **overrides) -> dict:
    values = {"team": "payments", "name": "per-provider", "source": topic.pk,
              "output_topic": "payments.per-provider-hourly", "window_type": "tumbling", "size": "1h",
              "grace": 60000, "group_by": "value.provider_id",
              "measures": [{"name": "claims", "op": "count"},
                           {"name": "amount_total", "op": "sum", "field": "value.amount"}]}
    values.update(overrides)
    return values


def test_create_read_change_and_delete(api_as, alice, payments_topic):
    source = with_value_schema(payments_topic())
    answer = api_as(alice).post(AGGS, body(source), format="json")
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert (made["definition_id"], made["size_ms"], made["grace_ms"], made["version"], made["status"]) == (
        "payments.per-provider", 3_600_000, 60_000, 1, "pending")
    assert made["dead_letter_topic"] == "payments.per-provider-hourly.late"
    assert answer["Location"].endswith(f"{AGGS}{made['id']}/")

    changed = api_as(alice).patch(f"{AGGS}{made['id']}/", {"size": "30m", "generation": 1}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["size_ms"], changed.json()["version"], changed.json()["generation"]) == (1_800_000, 2, 2)
    stale = api_as(alice).patch(f"{AGGS}{made['id']}/", {"size": "2h", "generation": 1}, format="json")
    assert stale.status_code == 409

    listed = api_as(alice).get(AGGS, {"team": "payments", "source": source.pk}).json()["results"]
    assert [a["id"] for a in listed] == [made["id"]]

    gone = api_as(alice).delete(f"{AGGS}{made['id']}/")
    assert gone.status_code == 202 and gone.json()["status"] == "deleting"
    again = api_as(alice).delete(f"{AGGS}{made['id']}/")
    assert again.status_code == 400


def test_errors_are_per_field_with_the_services_words(api_as, alice, payments_topic):
    source = with_value_schema(payments_topic())
    typo = api_as(alice).post(AGGS, body(source, sise="1h"), format="json")
    assert typo.status_code == 400 and set(typo.json()["errors"]) == {"sise"}
    wrong = api_as(alice).post(AGGS, body(source, size="ten"), format="json")
    assert wrong.json()["errors"] == {"size": ['Write a duration like "30s", "15m", "1h", "1d" or milliseconds '
                                               '("60000").']}
    answer = api_as(alice).post(AGGS, body(source, window_type="hopping", advance="2h", group_by="value.nope",
                                           measures=[{"name": "n", "op": "count"}, {"name": "n", "op": "avg"}],
                                           output_topic="clinical.x"), format="json")
    errors = answer.json()["errors"]
    assert set(errors) == {"advance", "group_by", "measures", "output_topic"}, errors
    assert errors["advance"] == ["The advance may not exceed the window size (windows would leave gaps)."]
    assert "no field nope" in errors["group_by"][0]
    assert any("unique" in m for m in errors["measures"]) and any("needs a field" in m for m in errors["measures"])


def test_an_outsider_is_refused_a_private_topic_with_the_words_of_an_unknown_one(api_as, alice, clinical_topic):
    private = clinical_topic(visibility="private")
    refused = api_as(alice).post(AGGS, body(private), format="json")
    unknown = api_as(alice).post(AGGS, body(private, source=999_999_999), format="json")
    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["errors"]["source"] == unknown.json()["errors"]["source"]
    assert not Aggregation.objects.exists()


def test_a_subscriber_may_aggregate_and_the_owner_of_a_public_source_sees_it(api_as, alice, carol, payments,
                                                                             clinical_topic, reader):
    public = clinical_topic()
    Subscription.objects.create(subscriber=payments, source=public, service_account=reader, reason="totals",
                                decision=Subscription.Decision.APPROVED)
    made = api_as(alice).post(AGGS, body(public), format="json")
    assert made.status_code == 201, made.content
    seen = api_as(carol).get(f"{AGGS}{made.json()['id']}/")
    assert seen.status_code == 200
    assert api_as(carol).patch(f"{AGGS}{made.json()['id']}/", {"size": "2h"}, format="json").status_code == 403
    assert api_as(carol).delete(f"{AGGS}{made.json()['id']}/").status_code == 403


def test_a_private_sources_aggregation_is_not_found_for_outsiders(api_as, alice, carol, vera, payments_topic):
    source = payments_topic(visibility="private")
    made = api_as(alice).post(AGGS, body(source), format="json").json()
    assert api_as(carol).get(f"{AGGS}{made['id']}/").status_code == 404
    assert api_as(carol).get(AGGS).json()["results"] == []
    assert api_as(vera).get(f"{AGGS}{made['id']}/").status_code == 200
    assert api_as(vera).patch(f"{AGGS}{made['id']}/", {"size": "2h"}, format="json").status_code == 403
    assert api_as(alice, scope="read").post(AGGS, body(source, name="other"), format="json").status_code == 403


@pytest.mark.parametrize("payload", [
    [], "x", {"team": 5}, {"source": "abc"}, {"measures": "count"}, {"measures": [1, None]},
    {"measures": [{"name": {"a": 1}, "op": ["count"], "field": 3}]}, {"size": {"h": 1}}, {"size": True},
    {"size": 10**30}, {"grace": -5}, {"window_type": None}, {"filter": "`"}, {"time_source": "field"},
    {"name": "x" * 500}, {"output_topic": "payments." + "x" * 300}, {"team": "nobody"}, {"source": 2**63},
])
def test_bad_input_is_a_4xx_never_a_500(api_as, alice, payments_topic, payload):
    source = payments_topic()
    data = payload if not isinstance(payload, dict) else body(source, **payload)
    answer = api_as(alice).post(AGGS, data, format="json")
    assert 400 <= answer.status_code < 500, answer.content


def test_the_endpoint_is_in_the_openapi_schema(api_as, alice):
    document = api_as(alice).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/aggregations/", "/api/v1/aggregations/{id}/"} <= set(document["paths"])
    measures = document["components"]["schemas"]["AggregationCreateRequest"]["properties"]["measures"]
    assert measures["items"]["$ref"].endswith("/MeasureRequest")
    assert "definition_id" in document["components"]["schemas"]["Aggregation"]["properties"]


def test_a_gated_cluster_answers_202_with_the_change_request(api_as, alice, cluster, payments_topic):
    from onboarding.changes.gate import change_policy_for

    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["aggregation.create"]
    policy.save()
    answer = api_as(alice).post(AGGS, body(payments_topic()), format="json")
    assert answer.status_code == 202, answer.content
    assert "/api/v1/change-requests/" in answer["Location"]
    assert not Aggregation.objects.exists()
