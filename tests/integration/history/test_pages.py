"""Team and resource history pages, their CSV/JSON exports and the API: members and operators only."""

import csv
import io
import json

import pghistory
import pytest

from onboarding.services.teams import team_update
from onboarding.services.topics import topic_update
from tests.integration.history.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed(payments, alice, topic):
    """Two edits by alice, as a browser request would make them (the middleware's context)."""
    with pghistory.context(user=alice.pk, username="alice", via="browser", request_id="req-pages-0001"):
        team_update(actor=alice, team=payments, via="browser", description="Card payments")
        topic_update(actor=alice, topic=topic, via="browser", description="Orders")
    return topic


def _streamed(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_the_team_page_lists_who_changed_what_with_before_and_after(client, alice, vera, changed):
    login(client, vera)  # a viewer reads the team's history too
    response = client.get("/teams/payments/audit/")
    assert response.status_code == 200
    rows = response.context["rows"]
    update = next(r for r in rows if r["resource_type"] == "topic" and r["event"] == "update")
    assert (update["action"], update["actor"]) == ("topic.update", "alice")
    assert update["changes"]["description"] == ["", "Orders"]
    assert {r["resource_type"] for r in rows} >= {"team", "membership", "topic"}
    assert b"topic.update" in response.content


def test_the_team_page_filters_by_resource_and_actor(client, alice, changed):
    login(client, alice)
    rows = client.get("/teams/payments/audit/", {"resource_type": "team"}).context["rows"]
    assert rows and {r["resource_type"] for r in rows} == {"team"}
    assert client.get("/teams/payments/audit/", {"actor": "nobody"}).context["rows"] == []


def test_a_bad_date_filter_is_a_form_error_not_a_500(client, alice, changed):
    login(client, alice)
    response = client.get("/teams/payments/audit/", {"since": "yesterday-ish"})
    assert response.status_code == 400
    assert "since" in response.context["form"].errors


def test_csv_export_streams_the_filtered_events(client, alice, changed):
    login(client, alice)
    response = client.get("/teams/payments/audit/", {"resource_type": "topic", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(_streamed(response))))
    assert {line["resource_type"] for line in lines} == {"topic"}
    update = next(line for line in lines if line["event"] == "update")
    assert (update["actor"], update["action"]) == ("alice", "topic.update")
    assert json.loads(update["changes"])["description"] == ["", "Orders"]


def test_json_export_of_one_resource(client, alice, changed):
    login(client, alice)
    response = client.get(f"/audit/topic/{changed.pk}/", {"export": "json"})
    events = json.loads(_streamed(response))
    assert [e["event"] for e in events] == ["update", "insert"]  # newest first
    assert {e["resource_id"] for e in events} == {str(changed.pk)}


def test_outsiders_get_a_404_for_the_team_and_its_resources(client, carol, changed):
    login(client, carol)
    assert client.get("/teams/payments/audit/").status_code == 404
    assert client.get(f"/audit/topic/{changed.pk}/").status_code == 404
    assert client.get("/teams/no-such-team/audit/").status_code == 404


def test_operators_read_every_team_and_platform_resources(client, operator, changed, cluster):
    login(client, operator)
    assert client.get("/teams/payments/audit/").status_code == 200
    assert client.get(f"/audit/cluster/{cluster.pk}/").status_code == 200


def test_members_do_not_read_platform_resources(client, alice, cluster):
    login(client, alice)
    assert client.get(f"/audit/cluster/{cluster.pk}/").status_code == 404


def test_the_topic_page_links_to_its_history(client, alice, changed):
    login(client, alice)
    assert f'href="/audit/topic/{changed.pk}/"'.encode() in client.get(f"/topics/{changed.pk}/").content


def test_api_lists_a_resources_history_as_paginated_json(api_as, bob, changed):
    response = api_as(bob).get("/api/v1/audit/", {"resource_type": "topic", "resource_id": changed.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert body["results"][0]["changes"] == {"description": ["", "Orders"], "generation": [1, 2]}


def test_api_without_filters_shows_only_the_callers_teams(api_as, carol, changed, clinical):
    response = api_as(carol).get("/api/v1/audit/")
    assert response.status_code == 200
    assert all(row["resource_type"] != "topic" for row in response.json()["results"])


def test_api_csv_export_and_errors(api_as, alice, carol, changed):
    response = api_as(alice).get("/api/v1/audit/", {"team": "payments", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "topic.update" in _streamed(response)
    assert api_as(carol).get("/api/v1/audit/", {"team": "payments"}).status_code == 404
    assert api_as(alice).get("/api/v1/audit/", {"team": "nope"}).status_code == 404
    bad = api_as(alice).get("/api/v1/audit/", {"since": "soon"})
    assert bad.status_code == 400 and "since" in bad.content.decode()
