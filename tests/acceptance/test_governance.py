"""Governance: a second person approves what a gated cluster holds back, topics are promoted to prod, and a
team's GitOps manifest is dry-run and applied."""

import os

import pytest
import yaml

from tests.acceptance import kafka, steps
from tests.acceptance.http import wait_for


def _topic_named(api, cluster: str, name: str) -> dict | None:
    listed = api.ok("topics/", params={"cluster": cluster, "q": name})["results"]
    return next((t for t in listed if t["name"] == name), None)


def _approved(operator, change: dict) -> dict:
    answer = operator.post(f"change-requests/{change['id']}/approve/", {"comment": "looks right"})
    assert answer.status_code == 200, answer.text
    decided = answer.json()
    assert decided["status"] == "applied", decided
    return decided


@pytest.fixture(scope="module")
def prod_account(as_user, run):
    """A payments account on local-prod: requested (every prod change is gated), approved by an operator,
    then rotated, because an account made through a request has a password nobody saw."""
    alice, operator = as_user("alice"), as_user("operator")
    change = alice.created("service-accounts/", {"cluster": "local-prod", "team": "payments",
                                                 "name": f"{run}-prod"}, expect=202)
    _approved(operator, change)
    account = wait_for(lambda: next((a for a in alice.ok("service-accounts/")["results"]
                                     if a["username"] == f"payments.{run}-prod"), None), timeout=30,
                       message="the approved prod account")
    alice.wait_status(f"service-accounts/{account['id']}/")
    rotated = alice.post(f"service-accounts/{account['id']}/rotate/")
    assert rotated.status_code == 200, rotated.text
    alice.wait_status(f"service-accounts/{account['id']}/")
    body = rotated.json()
    assert body["client_settings"]["bootstrap.servers"] == os.environ["KAFKA_PROD_SASL_BOOTSTRAP_SERVERS"]
    return body


def test_a_second_person_approves_a_change_the_gated_cluster_holds(as_user, server, run, prod_account):
    alice, bob, operator = as_user("alice", server), as_user("bob", server), as_user("operator", server)
    name = f"payments.{run}-gated-{server.name}"
    held = alice.post("topics/", {"cluster": "local-prod", "team": "payments", "name": name, "partitions": 2})
    assert held.status_code == 202, held.text
    change = held.json()
    assert held.headers["Location"].endswith(f"/api/v1/change-requests/{change['id']}/")
    assert change["status"] == "pending" and change["operations"] == ["topic.create"]
    assert _topic_named(alice, "local-prod", name) is None, "a held change must not be applied yet"

    own = alice.post(f"change-requests/{change['id']}/approve/", {"comment": "mine"})
    assert own.status_code == 403, own.text
    outsider = bob.post(f"change-requests/{change['id']}/approve/", {"comment": "not my team"})
    assert outsider.status_code in (403, 404), outsider.text

    _approved(operator, change)
    topic = wait_for(lambda: _topic_named(alice, "local-prod", name), timeout=30, message=f"{name} on local-prod")
    alice.wait_status(f"topics/{topic['id']}/")
    seen = wait_for(lambda: kafka.describe_topic(kafka.client_config(prod_account), name), timeout=30,
                    message=f"{prod_account['username']} to see {name} on the prod listener")
    assert seen == {"partitions": 2}


def test_a_topic_is_promoted_to_prod_after_approval(as_user, server, run, prod_account):
    alice, operator = as_user("alice", server), as_user("operator", server)
    name = f"payments.{run}-promote-{server.name}"
    dev = steps.topic(as_user("alice"), name=name, team="payments", partitions=3,
                      configs={"retention.ms": "7200000"})
    promoted = alice.post(f"topics/{dev['id']}/promote/", {})
    assert promoted.status_code == 202, promoted.text
    change = promoted.json()
    assert change["cluster"] == "local-prod" and change["status"] == "pending"

    _approved(operator, change)
    prod = wait_for(lambda: _topic_named(alice, "local-prod", name), timeout=30, message=f"{name} on local-prod")
    prod = alice.wait_status(f"topics/{prod['id']}/")
    assert (prod["partitions"], prod["configs"]["retention.ms"]) == (3, "7200000")
    seen = wait_for(lambda: kafka.describe_topic(kafka.client_config(prod_account), name), timeout=30,
                    message=f"{prod_account['username']} to see {name} on the prod listener")
    assert seen == {"partitions": 3}


def test_a_manifest_is_dry_run_then_applied(as_user, server, run):
    alice = as_user("alice", server)
    exported = alice.get("teams/payments/manifest/")
    assert exported.status_code == 200, exported.text
    manifest = yaml.safe_load(exported.text)
    name = f"payments.{run}-gitops-{server.name}"
    manifest["topics"].append({"cluster": "local", "name": name, "partitions": 2, "replication_factor": 1,
                               "configs": {"retention.ms": "86400000"}, "description": "Managed from Git.",
                               "tags": ["gitops"], "visibility": "public"})
    document = yaml.safe_dump(manifest, sort_keys=False)
    yaml_body = {"data": document.encode(), "headers": {"Content-Type": "application/yaml"}}

    plan = alice.post("teams/payments/manifest/", params={"dry_run": "true"}, **yaml_body)
    assert plan.status_code == 200, plan.text
    actions = _actions(plan.json())
    assert actions.get(("topic", name)) == "create", plan.json()
    assert {a for key, a in actions.items() if key != ("topic", name)} <= {"unchanged"}, plan.json()
    assert _topic_named(alice, "local", name) is None, "a dry run must change nothing"

    applied = alice.post("teams/payments/manifest/", **yaml_body)
    assert applied.status_code == 200, applied.text
    topic = wait_for(lambda: _topic_named(alice, "local", name), timeout=30, message=f"{name} from the manifest")
    ready = alice.wait_status(f"topics/{topic['id']}/")
    assert (ready["partitions"], ready["tags"], ready["description"]) == (2, ["gitops"], "Managed from Git.")

    again = alice.post("teams/payments/manifest/", params={"dry_run": "true"}, **yaml_body)
    assert again.status_code == 200, again.text
    assert set(_actions(again.json()).values()) <= {"unchanged"}, again.json()


def _actions(plan: dict) -> dict:
    """{(kind, name): op} of a manifest plan; a topic's name there is `<cluster>/<topic>`."""
    return {(entry["kind"], entry["name"].split("/", 1)[-1]): entry["op"] for entry in plan["plan"]}
