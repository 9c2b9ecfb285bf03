"""The preview and metrics on the aggregation pages: the saved definition or the form as typed goes to the engine;
refusals and an engine that cannot answer come back as words in the results box (never an error page); the
metrics the status task stored are shown on the definition page."""

import pytest
from django.utils import timezone

from onboarding.models import AggregationRuntime
from onboarding.services.aggregations import aggregation_create
from tests.integration.aggregations.helpers import definition, with_value_schema
from tests.integration.aggregations.test_pages import form_data
from tests.integration.aggregations.test_preview import closed_engine  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("closed_engine")]
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "aggregation-preview-results"}


@pytest.fixture
def agg(alice, payments, payments_topic):
    return aggregation_create(actor=alice, **definition(payments, with_value_schema(payments_topic())))


def test_the_definition_page_offers_the_preview_and_an_unreachable_engine_is_a_message(client_for, alice, agg):
    client = client_for(alice)
    page = client.get(f"/aggregations/{agg.pk}/").content.decode()
    assert f'hx-post="/aggregations/{agg.pk}/preview/"' in page

    answer = client.post(f"/aggregations/{agg.pk}/preview/", {"events": '[{"provider_id": "p1", "amount": 150}]'},
                         **HTMX)

    assert answer.status_code == 200
    assert "The aggregation engine cannot be reached" in answer.content.decode()


def test_pasted_events_that_are_not_json_are_named(client_for, alice, agg):
    answer = client_for(alice).post(f"/aggregations/{agg.pk}/preview/", {"events": "[{"}, **HTMX)
    assert answer.status_code == 200
    assert "Paste a JSON list of events" in answer.content.decode()


def test_the_form_as_typed_is_checked_by_the_services_rules(client_for, alice, payments, payments_topic):
    source = with_value_schema(payments_topic())
    answer = client_for(alice).post("/aggregations/preview/", form_data(payments, source, size="ten", output_topic=""),
                                    **HTMX)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert '<span class="mono">size</span>: Write a duration like' in html
    assert "output_topic" not in html  # a preview writes no output, so it needs none


def test_a_viewer_of_the_team_cannot_preview(client_for, vera, agg):
    client = client_for(vera)
    assert "can try this definition on sample events" in client.get(f"/aggregations/{agg.pk}/").content.decode()
    answer = client.post(f"/aggregations/{agg.pk}/preview/", {}, **HTMX)
    assert answer.status_code == 200
    assert "Only owners and members of the team can preview its aggregations." in answer.content.decode()


def test_the_metrics_of_the_engine_show_on_the_definition_page(client_for, alice, agg):
    client = client_for(alice)
    assert "appear here once the engine reports them" in client.get(f"/aggregations/{agg.pk}/").content.decode()
    AggregationRuntime.objects.create(aggregation=agg, state="ready", running_version=1, records_in=1200,
                                      windows_emitted=31, late_dropped=2, late_dead_lettered=1, lag=7,
                                      instances=[{"instance": "i1", "version": 1, "state": "RUNNING", "error": None}],
                                      reported_at=timezone.now())
    page = client.get(f"/aggregations/{agg.pk}/").content.decode()
    assert 'data-testid="metric-records-in">1200<' in page
    assert 'data-testid="metric-windows-emitted">31<' in page
    assert 'data-testid="metric-late">3 ' in page and 'data-testid="metric-lag">7<' in page


def test_the_form_pages_offer_the_preview_of_the_definition_as_typed(client_for, alice, agg):
    client = client_for(alice)
    new = client.get("/aggregations/new/").content.decode()
    assert 'hx-post="/aggregations/preview/" hx-include="#aggregation-form"' in new
    edit = client.get(f"/aggregations/{agg.pk}/edit/").content.decode()
    assert f'hx-post="/aggregations/{agg.pk}/edit/preview/" hx-include="#aggregation-form"' in edit
    answer = client.post(f"/aggregations/{agg.pk}/edit/preview/",
                         {"source": agg.source_id, "window_type": "tumbling", "size": "1h", "grace": "0",
                          "time_source": "record", "measures": "claims count", "emit": "on_update", "late": "drop",
                          "start_from": "earliest", "events": "[1, 2]"}, **HTMX)
    assert "The aggregation engine cannot be reached" in answer.content.decode()
