"""The consumer-group API on the real broker: list, detail, lag history, reset (dry run, apply, approval across
teams), refusals per field, and deleting records."""

import pytest

from onboarding.models import Subscription
from onboarding.services.group_lag import lag_sample
from onboarding.services.groups import consumer_groups_for
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from tests.integration.groups.conftest import produce
from tests.integration.groups.test_offset_resets import T0, T1, T1_TEXT, _commit_as_admin

pytestmark = pytest.mark.django_db


def _caught_up(cluster, group, topic):
    _commit_as_admin(group, {key: m.high for key, m in consumer_groups_for(cluster).watermarks([topic]).items()})


def test_a_team_lists_its_groups_dry_runs_and_applies_a_reset(cluster, payments, bob, orders, api_as, run):
    group = f"payments.api-{run}"
    produce(orders.name, [{"n": n} for n in range(12)], timestamp_ms=T0)
    produce(orders.name, [{"n": n} for n in range(12, 20)], timestamp_ms=T1)
    _caught_up(cluster, group, orders.name)
    api = api_as(bob)

    listed = api.get("/api/v1/consumer-groups/", {"team": "payments", "cluster": cluster.name})
    assert listed.status_code == 200
    assert {row["group_id"]: row["lag"] for row in listed.json()}[group] == 0
    assert api.get("/api/v1/consumer-groups/").status_code == 400
    detail = api.get(f"/api/v1/consumer-groups/{cluster.name}/{group}/").json()
    assert [p["committed"] for p in detail["partitions"]] == [p["high"] for p in detail["partitions"]]

    url = f"/api/v1/consumer-groups/{cluster.name}/{group}/reset/"
    body = {"topic": orders.name, "strategy": "timestamp", "timestamp": f"{T1_TEXT}Z"}
    dry = api.post(url, {**body, "dry_run": True}, format="json")
    assert dry.status_code == 200, dry.json()
    assert dry.json()["totals"] == {"lag_before": 0, "lag_after": 8, "lag_delta": 8}

    refused = api.post(url, {**body, "strategy": "shift"}, format="json")
    assert refused.status_code == 400 and "shift" in refused.json()["errors"]
    unknown = api.post(url, {**body, "partiton": 1}, format="json")
    assert unknown.status_code == 400
    huge = api.post(url, {**body, "strategy": "offset", "offset": 2**70}, format="json")
    assert huge.status_code == 400 and "offset" in huge.json()["errors"]

    applied = api.post(url, body, format="json")
    assert applied.status_code == 201, applied.json()
    assert applied.json()["status"] == "applied" and sum(p["new"] for p in applied.json()["plan"]) == 12

    lag_sample(cluster)
    history = api.get(f"/api/v1/consumer-groups/{cluster.name}/{group}/lag/").json()
    assert [point["lag"] for point in history["topics"][orders.name]] == [8]
    resets = api.get("/api/v1/offset-resets/").json()
    assert [r["group_id"] for r in resets["results"]] == [group]
    assert [r["group_id"] for r in api.get("/api/v1/offset-resets/?status=applied").json()["results"]] == [group]
    assert api.get("/api/v1/offset-resets/?status=rejected").json()["results"] == []
    unknown_status = api.get("/api/v1/offset-resets/?status=done")
    assert unknown_status.status_code == 400 and "status" in unknown_status.json()["errors"]


def test_another_teams_reset_is_approved_by_the_topic_owner_through_the_api(
        cluster, payments, alice, clinical, carol, orders, api_as, run):
    account, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"a-{run}")
    subscription_request(actor=carol, subscriber=clinical, source=orders, service_account=account,
                         mode=Subscription.Mode.DIRECT, reason="reports", via="api")
    group = f"clinical.api-{run}"
    produce(orders.name, [{"n": n} for n in range(6)], timestamp_ms=T0)
    _caught_up(cluster, group, orders.name)

    asked = api_as(carol).post(f"/api/v1/consumer-groups/{cluster.name}/{group}/reset/",
                               {"topic": orders.name, "strategy": "earliest", "reason": "rebuild"}, format="json")
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    reset_id = asked.json()["id"]
    assert api_as(carol).post(f"/api/v1/offset-resets/{reset_id}/approve/", {}, format="json").status_code == 403
    approved = api_as(alice).post(f"/api/v1/offset-resets/{reset_id}/approve/", {"comment": "ok"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "applied"
    assert sum(consumer_groups_for(cluster).committed(group).values()) == 0


def test_the_topic_owner_deletes_records_through_the_api(cluster, payments, alice, bob, orders, api_as):
    produce(orders.name, [{"n": n} for n in range(10)], timestamp_ms=T0)
    url = f"/api/v1/topics/{orders.pk}/delete-records/"
    assert api_as(bob).post(url, {"before": {"0": 1}, "confirm_name": orders.name}, format="json").status_code == 403
    bad = api_as(alice).post(url, {"before": {"x": 1}, "confirm_name": orders.name}, format="json")
    assert bad.status_code == 400
    done = api_as(alice).post(url, {"before": {"0": -1, "1": -1}, "confirm_name": orders.name}, format="json")
    assert done.status_code == 200, done.json()
    marks = consumer_groups_for(cluster).watermarks([orders.name])
    assert all(m.low == m.high for m in marks.values())
