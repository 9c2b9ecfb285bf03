"""The aggregation pages on Postgres: define through the form (errors beside fields, then saved), the definition
page with its status, windows and measures and the preview/metrics places, edits that start a new version,
live validation, links from the topic and team pages, delete, and the admin."""

import pytest

from onboarding.models import Aggregation
from onboarding.services.aggregations import aggregation_create
from tests.integration.aggregations.helpers import definition, with_value_schema
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db


def form_data(team, source, **overrides) -> dict:
    data = {"team": team.pk, "name": "per-provider", "description": "", "source": source.pk,
            "filter": "value.amount > `100`", "group_by": "value.provider_id", "window_type": "tumbling",
            "size": "1h", "advance": "", "gap": "", "grace": "1m", "time_source": "record", "time_field": "",
            "measures": "claims count\namount_total sum value.amount", "emit": "on_update", "late": "drop",
            "output_topic": "payments.per-provider-hourly", "start_from": "earliest"}
    data.update(overrides)
    return data


def test_the_form_shows_the_services_errors_beside_the_fields_then_saves(client_for, alice, payments,
                                                                         payments_topic):
    source = with_value_schema(payments_topic())
    client = client_for(alice)
    page = client.get(f"/aggregations/new/?source={source.pk}")
    assert page.status_code == 200 and f'value="{source.pk}" selected' in page.content.decode()

    refused = client.post("/aggregations/new/", form_data(payments, source, size="ten", group_by="value.nope",
                                                          measures="claims count\ntotal sum"))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'id="err-size" aria-live="polite"><li>Write a duration like' in html
    assert 'id="err-group_by" aria-live="polite"><li>The source&#x27;s value schema has no field nope' in html
    assert "Measure 2 (total): sum needs a field" in html
    assert not Aggregation.objects.exists()

    saved = client.post("/aggregations/new/", form_data(payments, source))
    agg = Aggregation.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/aggregations/{agg.pk}/"
    assert agg.measures == [{"name": "claims", "op": "count"},
                            {"name": "amount_total", "op": "sum", "field": "value.amount"}]


def test_live_validation_answers_error_fragments_without_saving(client_for, alice, payments, payments_topic):
    source = payments_topic()
    answer = client_for(alice).post("/aggregations/validate/", form_data(payments, source, window_type="hopping",
                                                                         advance="2h"))
    html = answer.content.decode()
    assert answer.status_code == 200 and 'id="err-advance" aria-live="polite" hx-swap-oob="true"><li>' in html
    assert not Aggregation.objects.exists()


def test_the_definition_page_reads_the_window_and_measures(client_for, alice, payments, payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, payments_topic(), window_type="hopping",
                                                       advance="15m", late="dead_letter"))
    html = client_for(alice).get(f"/aggregations/{agg.pk}/").content.decode()
    assert "hopping, size 1h, advancing by 15m, grace 1m" in html
    assert "payments.per-provider-hourly.late" in html
    assert 'data-testid="aggregation-preview"' in html and 'data-testid="aggregation-metrics"' in html
    assert '<td class="mono">amount_total</td><td>sum</td><td><code>value.amount</code></td>' in html
    status = client_for(alice).get(f"/aggregations/{agg.pk}/", **htmx_to("aggregation-status"))
    fragment = status.content.decode()
    assert 'data-testid="version">1<' in fragment and 'hx-trigger="every 2s"' in fragment


def test_an_edit_of_the_window_is_a_new_version_an_unchanged_form_is_not(client_for, alice, payments,
                                                                         payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    client = client_for(alice)
    edit = client.get(f"/aggregations/{agg.pk}/edit/").content.decode()
    assert 'value="1h"' in edit and "claims count\namount_total sum value.amount" in edit
    data = form_data(payments, agg.source, generation=1)
    data.pop("team"), data.pop("name")
    assert client.post(f"/aggregations/{agg.pk}/edit/", {**data, "size": "60m"}).status_code == 302
    agg.refresh_from_db()
    assert (agg.version, agg.generation) == (1, 1)
    assert client.post(f"/aggregations/{agg.pk}/edit/", {**data, "size": "30m"}).status_code == 302
    agg.refresh_from_db()
    assert (agg.version, agg.size_ms) == (2, 1_800_000)
    stale = client.post(f"/aggregations/{agg.pk}/edit/", {**data, "size": "2h"})
    assert stale.status_code == 400 and "changed since you loaded it" in stale.content.decode()


def test_topic_and_team_pages_link_to_aggregations_and_outsiders_cannot_edit(client_for, alice, carol, payments,
                                                                             payments_topic):
    source = payments_topic()
    agg = aggregation_create(actor=alice, **definition(payments, source))
    topic_page = client_for(alice).get(f"/topics/{source.pk}/?tab=access").content.decode()
    assert f'href="/aggregations/{agg.pk}/"' in topic_page and f"/aggregations/new/?source={source.pk}" in topic_page
    team_page = client_for(alice).get("/teams/payments/").content.decode()
    assert f'href="/aggregations/{agg.pk}/"' in team_page
    assert f'href="/aggregations/{agg.pk}/"' in client_for(alice).get("/aggregations/").content.decode()
    outsider = client_for(carol)
    assert outsider.get(f"/aggregations/{agg.pk}/").status_code == 200  # a public source
    assert outsider.get(f"/aggregations/{agg.pk}/edit/").status_code == 403
    assert "Aggregate this topic" not in outsider.get(f"/topics/{source.pk}/?tab=access").content.decode()
    outsider.post(f"/aggregations/{agg.pk}/delete/")
    agg.refresh_from_db()
    assert not agg.wants_deletion
    client_for(alice).post(f"/aggregations/{agg.pk}/delete/")
    agg.refresh_from_db()
    assert agg.status == "deleting"


def test_the_admin_lists_and_shows_aggregations(client_for, operator, alice, payments, payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    admin = client_for(operator)
    assert "payments.per-provider" in admin.get("/admin/onboarding/aggregation/").content.decode()
    assert admin.get(f"/admin/onboarding/aggregation/{agg.pk}/change/").status_code == 200


def test_the_history_of_an_aggregation_names_it_and_is_the_teams(client_for, alice, carol, payments,
                                                                  payments_topic):
    from onboarding.services.aggregations import aggregation_update

    agg = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    aggregation_update(actor=alice, aggregation=agg, size="2h")
    page = client_for(alice).get(f"/aggregations/{agg.pk}/")
    assert f'href="/audit/aggregation/{agg.pk}/"' in page.content.decode()
    history = client_for(alice).get(f"/audit/aggregation/{agg.pk}/").content.decode()
    assert "payments.per-provider" in history and "aggregation.update" in history
    assert "payments.per-provider" not in client_for(carol).get(f"/audit/aggregation/{agg.pk}/").content.decode()


def test_a_gated_definition_shows_its_change_request_page(client_for, alice, payments, payments_topic, cluster):
    from onboarding.changes.gate import change_policy_for
    from onboarding.models import ChangeRequest

    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["aggregation.create"]
    policy.save()
    answer = client_for(alice).post("/aggregations/new/", form_data(payments, payments_topic()))
    cr = ChangeRequest.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(f"/{cr.pk}/")
    page = client_for(alice).get(answer["Location"])
    assert page.status_code == 200 and "Define aggregation payments.per-provider" in page.content.decode()
    assert not Aggregation.objects.exists()
