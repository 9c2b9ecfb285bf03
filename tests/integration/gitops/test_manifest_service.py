"""Team manifests on the real services (no worker): export, dry run, apply, idempotence and refusals."""

import pytest
import yaml

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.gitops.service import manifest_apply, manifest_export, manifest_plan
from onboarding.models import AuditEvent, Subscription, Topic
from onboarding.services.topics import topic_create
from tests.integration.gitops.conftest import ORDER, counts

pytestmark = pytest.mark.django_db


def document(resources, **changes) -> dict:
    loaded = yaml.safe_load(manifest_export(team=resources.topic.team))
    loaded.update(changes)
    return loaded


def refusal(call, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value.message_dict


def test_export_lists_the_teams_live_resources_in_a_stable_yaml(resources):
    text = manifest_export(team=resources.topic.team)

    assert manifest_export(team=resources.topic.team) == text
    loaded = yaml.safe_load(text)
    assert (loaded["apiVersion"], loaded["kind"], loaded["team"]) == ("portal/v1", "TeamManifest", "payments")
    [topic] = loaded["topics"]
    assert topic == {
        "cluster": "local", "name": resources.topic.name, "partitions": 2, "replication_factor": 1,
        "configs": {"retention.ms": "86400000"}, "description": "Orders\nplaced.", "tags": ["orders"],
        "visibility": "public", "subscriptions_need_approval": False,
        "schemas": {"value": {"format": "AVRO", "compatibility": "BACKWARD", "schema": ORDER}}}
    assert loaded["service_accounts"] == [{"cluster": "local", "name": resources.account.name,
                                           "description": "Billing consumers"}]
    assert loaded["subscriptions"] == [{"cluster": "local", "source": resources.source.name, "mode": "direct",
                                        "filter": "", "service_account": resources.account.name,
                                        "reason": "Billing needs visits"}]
    assert "password" not in text and "secret" not in text


def test_the_exported_manifest_plans_as_all_unchanged(alice, resources):
    result = manifest_plan(actor=alice, team=resources.topic.team, document=document(resources))

    assert result.plan.summary() == {"create": 0, "update": 0, "delete": 0, "unchanged": 4}


def test_a_dry_run_plans_every_kind_of_change_and_changes_nothing(alice, resources, names):
    wanted = document(resources)
    wanted["topics"][0]["partitions"] = 4
    wanted["topics"].append({"cluster": "local", "name": names.topic("new"), "partitions": 1})
    wanted["subscriptions"] = []
    before = counts()

    result = manifest_plan(actor=alice, team=resources.topic.team, document=wanted)

    assert counts() == before
    assert [(a["op"], a["kind"]) for a in result.plan.as_list() if a["op"] != "unchanged"] == [
        ("update", "topic"), ("create", "topic"), ("delete", "subscription")]
    assert result.plan.of("update")[0].changes == {"partitions": {"old": 2, "new": 4}}


def test_apply_goes_through_the_services_and_a_second_apply_changes_nothing(alice, resources, names):
    wanted = document(resources)
    wanted["topics"][0].update(partitions=3, tags=["orders", "pci"], subscriptions_need_approval=True)
    new_name = names.topic("new")
    wanted["topics"].append({"cluster": "local", "name": new_name, "partitions": 1, "replication_factor": 1,
                             "configs": {"retention.ms": "3600000"}, "visibility": "private"})
    wanted["service_accounts"][0]["description"] = "Billing and reporting"

    result = manifest_apply(actor=alice, team=resources.topic.team, document=wanted, via="api")

    assert result.plan.summary() == {"create": 1, "update": 2, "delete": 0, "unchanged": 2}
    topic = Topic.objects.get(pk=resources.topic.pk)
    assert (topic.partitions, topic.tags, topic.subscriptions_need_approval) == (3, ["orders", "pci"], True)
    assert topic.generation == 2  # partitions change Kafka: a new generation for the reconciler
    created = Topic.objects.get(name=new_name)
    assert (created.visibility, created.status) == ("private", "pending")
    actions = list(AuditEvent.objects.filter(via="api").values_list("action", flat=True))
    assert {"topic.update", "topic.create", "service_account.update"} <= set(actions)

    before = counts()
    again = manifest_apply(actor=alice, team=resources.topic.team, document=wanted, via="api")
    assert not again.plan.changes_anything and again.results == []
    assert counts() == before


def test_a_changed_schema_text_submits_a_new_version_a_reformatted_one_does_not(alice, resources):
    wanted = document(resources)
    wanted["topics"][0]["schemas"]["value"]["schema"] = ORDER.replace(", ", ",\n  ")
    assert not manifest_plan(actor=alice, team=resources.topic.team, document=wanted).plan.changes_anything

    wanted["topics"][0]["schemas"]["value"]["compatibility"] = "FULL"
    result = manifest_apply(actor=alice, team=resources.topic.team, document=wanted)
    assert [a["changes"] for a in result.plan.as_list() if a["op"] == "update"] == [
        {"compatibility": {"old": "BACKWARD", "new": "FULL"}}]
    resources.schema.refresh_from_db()
    assert (resources.schema.compatibility, resources.schema.versions.count()) == ("FULL", 1)


def test_deletions_are_refused_without_allow_deletes_and_listed(alice, resources):
    wanted = document(resources, topics=[], subscriptions=[])
    before = counts()

    errors = refusal(manifest_apply, actor=alice, team=resources.topic.team, document=wanted)

    assert counts() == before
    [message] = errors["allow_deletes"]
    assert f"subscription local/{resources.source.name}/{resources.account.name}/direct" in message
    assert f"topic local/{resources.topic.name}" in message


def test_allowed_deletions_revoke_and_delete_through_the_services(alice, resources):
    wanted = document(resources, topics=[], subscriptions=[], service_accounts=[])

    result = manifest_apply(actor=alice, team=resources.topic.team, document=wanted, allow_deletes=True)

    assert [(a["op"], a["kind"]) for a in result.results] == [
        ("delete", "subscription"), ("delete", "topic"), ("delete", "service_account")]
    resources.subscription.refresh_from_db()
    resources.topic.refresh_from_db()
    resources.account.refresh_from_db()
    assert resources.subscription.decision == "revoked"
    assert resources.topic.status == resources.account.status == "deleting"
    assert yaml.safe_load(manifest_export(team=resources.topic.team))["topics"] == []


def test_a_refusal_part_way_leaves_nothing_applied(alice, resources, names):
    wanted = document(resources)
    wanted["topics"][0]["description"] = "Changed first"
    # Valid Avro, so the checks before apply pass; the schema service refuses it when the apply reaches it
    # (the first version is not registered yet, and the change breaks BACKWARD anyway).
    breaking = ORDER.replace('{"name": "amount", "type": "long"}', '{"name": "amount", "type": "long"}, '
                             '{"name": "customer", "type": "string"}')
    wanted["topics"][0]["schemas"]["value"]["schema"] = breaking
    before = counts()

    errors = refusal(manifest_apply, actor=alice, team=resources.topic.team, document=wanted)

    assert list(errors) == ["topics[0].schemas.value.schema"]
    assert counts() == before
    assert Topic.objects.get(pk=resources.topic.pk).description == "Orders\nplaced."


def test_references_outside_the_team_are_refused_at_their_paths(alice, carol, cluster, clinical, resources):
    secret = topic_create(actor=carol, cluster=cluster, team=clinical, name=f"{resources.source.name}-private",
                          partitions=1, replication_factor=1, visibility="private")
    wanted = document(resources)
    wanted["topics"].append({"cluster": "local", "name": resources.source.name})
    wanted["topics"].append({"cluster": "nowhere", "name": "payments.x"})
    wanted["subscriptions"].append({"cluster": "local", "source": secret.name, "service_account": "clinical.reader",
                                    "reason": "Curious"})

    errors = refusal(manifest_plan, actor=alice, team=resources.topic.team, document=wanted)

    assert errors["topics[2].cluster"] == ["There is no cluster named 'nowhere'."]
    assert "topics[1].name" in errors
    assert errors["subscriptions[1].source"] == ["No such topic."]
    assert errors["subscriptions[1].service_account"] == ["The service account must belong to the subscribing team."]
    assert secret.name not in str(errors)


def test_a_manifest_for_another_team_is_refused(alice, resources):
    errors = refusal(manifest_plan, actor=alice, team=resources.topic.team,
                     document=document(resources, team="clinical"))
    assert list(errors) == ["team"]


def test_viewers_may_plan_but_not_apply_and_outsiders_see_no_team(vera, carol, resources):
    wanted = document(resources)
    assert manifest_plan(actor=vera, team=resources.topic.team, document=wanted)
    with pytest.raises(PermissionDenied):
        manifest_apply(actor=vera, team=resources.topic.team, document=wanted)
    with pytest.raises(NotFound):
        manifest_plan(actor=carol, team=resources.topic.team, document=wanted)


def test_a_subscription_must_use_an_account_the_manifest_keeps(alice, resources):
    wanted = document(resources, service_accounts=[])

    errors = refusal(manifest_plan, actor=alice, team=resources.topic.team, document=wanted)

    assert errors == {"subscriptions[0].service_account": [
        f"payments has no service account {resources.account.name!r} on local: list it under service_accounts."]}


def test_a_routed_subscription_into_a_topic_created_by_the_same_manifest(alice, resources, names):
    wanted = document(resources)
    destination = names.topic("copies")
    wanted["topics"].append({"cluster": "local", "name": destination, "partitions": 1, "replication_factor": 1})
    wanted["subscriptions"].append({"cluster": "local", "source": resources.source.name, "mode": "routed",
                                    "filter": "value.amount > `10`", "service_account": resources.account.name,
                                    "destination": destination, "reason": "Large visits only"})

    result = manifest_apply(actor=alice, team=resources.topic.team, document=wanted)

    assert [(r["op"], r["kind"]) for r in result.results] == [("create", "topic"), ("create", "subscription")]
    routed = Subscription.objects.get(mode="routed")
    assert (routed.destination.name, routed.filter, routed.decision) == (destination, "value.amount > `10`",
                                                                         "approved")
    assert not manifest_plan(actor=alice, team=resources.topic.team, document=wanted).plan.changes_anything


def test_a_subscription_whose_source_turned_private_still_plans_unchanged(alice, resources):
    wanted = document(resources)
    Topic.objects.filter(pk=resources.source.pk).update(visibility="private")

    assert not manifest_plan(actor=alice, team=resources.topic.team, document=wanted).plan.changes_anything


def test_on_a_gated_cluster_apply_opens_change_requests_and_applying_after_approval_converges(
        alice, otto, resources, names, gated):
    from onboarding.changes.requests import change_request_approve
    from onboarding.models import ChangeRequest

    gated(resources.topic.cluster, "topic.create", "topic.update")
    wanted = document(resources)
    wanted["topics"][0]["partitions"] = 3
    new_name = names.topic("reviewed")
    wanted["topics"].append({"cluster": "local", "name": new_name, "partitions": 1, "replication_factor": 1})

    result = manifest_apply(actor=alice, team=resources.topic.team, document=wanted, via="api")

    assert sorted((entry["op"], entry["name"]) for entry in result.change_requests) == sorted(
        [("update", f"local/{resources.topic.name}"), ("create", f"local/{new_name}")])
    assert not Topic.objects.filter(name=new_name).exists()
    assert Topic.objects.get(pk=resources.topic.pk).partitions == 2
    for entry in result.change_requests:
        change_request_approve(actor=otto, change_request=ChangeRequest.objects.get(pk=entry["change_request"]),
                               via="api")
    assert ChangeRequest.objects.filter(status="applied").count() == 2

    again = manifest_apply(actor=alice, team=resources.topic.team, document=wanted, via="api")
    assert not again.plan.changes_anything and again.change_requests == []
