"""The catalogue page (full and htmx fragment) and GET /api/v1/search/: same search, same visibility."""

import pytest

from onboarding.models import Topic
from tests.integration.views.htmx import htmx_to

from .conftest import PATIENT_ADMISSION, stored_schema

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/search/"


@pytest.fixture
def catalogue(make_topic, carol, clinical):
    admissions = make_topic("payments.admissions", description="Admissions <b>billed</b> to insurers",
                            tags=["pii"])
    stored_schema(admissions, PATIENT_ADMISSION)
    make_topic("payments.ledger", visibility=Topic.Visibility.PRIVATE, description="Ledger of patient refunds")
    make_topic("clinical.labs", actor=carol, team=clinical, description="Lab results of the patient")


def test_the_page_shows_hits_matched_fields_and_facets(catalogue, client_for, alice):
    response = client_for(alice).get("/catalogue/", {"q": "birth date"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "payments.admissions" in page and "clinical.labs" not in page
    assert 'matched field <span class="mono">patient.birth_date</span>' in page
    assert "<mark>Date</mark> of <mark>birth</mark> of the patient" in page
    assert 'data-testid="facet-team-payments"' in page
    assert "<title>Catalogue" in page


def test_highlighted_descriptions_escape_the_text(catalogue, client_for, alice):
    page = client_for(alice).get("/catalogue/", {"q": "billed"}).content.decode()

    assert "&lt;b&gt;<mark>billed</mark>&lt;/b&gt;" in page
    assert "<b>billed" not in page


def test_the_htmx_search_answers_the_results_fragment_only(catalogue, client_for, alice):
    response = client_for(alice).get("/catalogue/", {"q": "patient", "team": "clinical"},
                                     **htmx_to("catalogue-results"))

    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'id="catalogue-results"' in fragment
    assert "clinical.labs" in fragment and "payments.admissions" not in fragment
    assert 'class="selected"' in fragment


def test_private_topics_stay_invisible_to_outsiders_on_the_page_and_in_the_api(catalogue, client_for, api_as,
                                                                                carol, bob):
    assert "payments.ledger" not in client_for(carol).get("/catalogue/", {"q": "ledger"}).content.decode()
    assert api_as(carol).get(SEARCH, {"q": "ledger"}).json()["count"] == 0
    assert "payments.ledger" in client_for(bob).get("/catalogue/", {"q": "ledger"}).content.decode()
    assert [r["topic"]["name"] for r in api_as(bob).get(SEARCH, {"q": "ledger"}).json()["results"]] == [
        "payments.ledger"]


def test_the_api_answers_results_scores_matched_fields_facets_and_pages(catalogue, api_as, alice):
    body = api_as(alice, scope="read").get(SEARCH, {"q": "patient", "page_size": 1}).json()

    assert body["count"] == 3 and body["num_pages"] == 3 and body["previous"] is None
    assert "page=2" in body["next"]
    first = body["results"][0]
    assert first["topic"]["name"] == "payments.admissions"
    assert first["score"] > 0
    assert first["matched_fields"][0]["path"].startswith("patient")
    assert {v["value"]: v["count"] for v in body["facets"]["team"]} == {"payments": 2, "clinical": 1}
    assert set(body["facets"]) == {"team", "environment", "tag", "format"}


def test_the_api_combines_facets(catalogue, api_as, alice):
    body = api_as(alice).get(f"{SEARCH}?q=patient&team=payments&team=clinical&tag=pii&format=avro").json()

    assert [r["topic"]["name"] for r in body["results"]] == ["payments.admissions"]


def test_the_api_refuses_bad_paging_with_field_errors(api_as, alice):
    response = api_as(alice).get(SEARCH, {"page": "x", "page_size": 1000})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"page", "page_size"}


def test_the_search_is_in_the_openapi_schema(client_for, alice):
    schema = client_for(alice).get("/api/schema/").content.decode()

    assert "/api/v1/search/" in schema and "SearchResult" in schema and "matched_fields" in schema
