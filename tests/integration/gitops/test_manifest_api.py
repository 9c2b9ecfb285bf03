"""GET/POST /api/v1/teams/<slug>/manifest/: YAML or JSON, dry run and apply, errors keyed by manifest path."""

import pytest
import yaml

from onboarding.gitops.service import manifest_export
from onboarding.models import AuditEvent, Topic
from tests.integration.gitops.conftest import MANIFEST, counts

pytestmark = pytest.mark.django_db
URL = MANIFEST.format("payments")
HEAD = "apiVersion: portal/v1\nkind: TeamManifest\nteam: payments\n"


def post_yaml(client, text: str, query: str = "?dry_run=true"):
    return client.post(URL + query, data=text.encode("utf-8"), content_type="application/yaml")


def test_export_is_yaml_by_default_and_json_on_request(api_as, alice, resources):
    client = api_as(alice)

    answer = client.get(URL)

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/yaml")
    assert answer.content.decode() == manifest_export(team=resources.topic.team)
    as_json = client.get(URL + "?format=json")
    assert as_json.status_code == 200 and as_json["Content-Type"].startswith("application/json")
    assert as_json.json() == yaml.safe_load(answer.content)


def test_a_yaml_dry_run_answers_the_plan_and_changes_nothing(api_as, alice, resources):
    text = manifest_export(team=resources.topic.team).replace("partitions: 2", "partitions: 5")
    before = counts()

    answer = post_yaml(api_as(alice), text)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["dry_run"] is True and body["summary"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 3}
    [update] = [a for a in body["plan"] if a["op"] == "update"]
    assert update == {"op": "update", "kind": "topic", "name": f"local/{resources.topic.name}", "path": "topics[0]",
                      "changes": {"partitions": {"old": 2, "new": 5}}}
    assert counts() == before


def test_dry_run_may_be_a_body_field_and_apply_is_audited_as_api(api_as, alice, resources):
    client = api_as(alice)
    document = client.get(URL + "?format=json").json()
    document["topics"][0]["description"] = "Orders, as placed."
    before = counts()

    planned = client.post(URL, {**document, "dry_run": True}, format="json")
    assert planned.status_code == 200 and planned.json()["dry_run"] is True
    assert counts() == before

    applied = client.post(URL, document, format="json")
    assert applied.status_code == 200, applied.content
    assert applied.json()["dry_run"] is False
    assert [(r["op"], r["kind"]) for r in applied.json()["results"]] == [("update", "topic")]
    assert Topic.objects.get(pk=resources.topic.pk).description == "Orders, as placed."
    event = AuditEvent.objects.filter(action="topic.update").latest("id")
    assert (event.via, event.actor_name) == ("api", "alice")


def test_deletions_need_allow_deletes(api_as, alice, resources):
    client = api_as(alice)
    text = HEAD + "topics: []\nservice_accounts: []\nsubscriptions: []\n"

    refused = post_yaml(client, text, query="")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["allow_deletes"]

    applied = post_yaml(client, text, query="?allow_deletes=true")
    assert applied.status_code == 200, applied.content
    assert applied.json()["summary"]["delete"] == 3


@pytest.mark.parametrize(("body", "content_type", "errors"), [
    ("team: [payments\n", "application/yaml",
     {"non_field_errors": ["Malformed YAML at line 2, column 1: expected ',' or ']', but got '<stream end>'."]}),
    ('{"team": }', "application/json",
     {"non_field_errors": ["Malformed JSON at line 1, column 10: Expecting value."]}),
    ("- just\n- a list\n", "application/yaml",
     {"non_field_errors": ["The manifest must be a mapping with apiVersion, kind, team and resources."]}),
    (HEAD.replace("TeamManifest", "Team"), "application/yaml", {"kind": ["Use kind: TeamManifest."]}),
    (HEAD.replace("portal/v1", "portal/v2"), "application/yaml", {"apiVersion": ["Use apiVersion: portal/v1."]}),
    (HEAD + "topics:\n- {cluster: local, name: payments.a}\n- {cluster: local, name: payments.b, partitons: 3}\n",
     "application/yaml", {"topics[1].partitons": ["unknown field; did you mean partitions?"]}),
    (HEAD + "topics:\n- {cluster: local, name: payments.a, partitions: many}\n", "application/yaml",
     {"topics[0].partitions": ["Must be a whole number."]}),
    (HEAD.replace("team: payments", "team: clinical"), "application/yaml",
     {"team": ["This manifest is for team 'clinical', but it was sent to payments's manifest."]}),
    (HEAD + "service_accounts:\n- {cluster: elsewhere, name: reader}\n", "application/yaml",
     {"service_accounts[0].cluster": ["There is no cluster named 'elsewhere'."]}),
    (HEAD + "service_accounts:\n- {cluster: local, name: Reader}\n", "application/yaml",
     {"service_accounts[0].name": ["Use lowercase letters, digits and '-', starting with a letter."]}),
    (HEAD + "topics:\n- {cluster: local, name: payments.a, partitions: 1000}\n", "application/yaml",
     {"topics[0].partitions": ["Partitions must be between 1 and 24 on this cluster."]}),
])
def test_bad_manifests_are_400_with_errors_at_their_paths(api_as, alice, cluster, body, content_type, errors):
    answer = api_as(alice).post(URL + "?dry_run=true", data=body.encode(), content_type=content_type)

    assert answer.status_code == 400, answer.content
    assert answer.json() == {"errors": errors}


def test_a_body_that_is_not_utf8_is_refused(api_as, alice, payments):
    answer = api_as(alice).post(URL, data=b"\xff\xfe team", content_type="application/yaml")
    assert answer.status_code == 400
    assert answer.json() == {"errors": {"non_field_errors": ["The manifest must be UTF-8 text."]}}


def test_a_subscription_with_another_teams_account_or_a_private_topic_is_refused(api_as, alice, carol, cluster,
                                                                                clinical, resources):
    from onboarding.services.topics import topic_create

    secret = topic_create(actor=carol, cluster=cluster, team=clinical, name=f"{resources.source.name}-secret",
                          partitions=1, replication_factor=1, visibility="private")
    document = yaml.safe_load(manifest_export(team=resources.topic.team))
    document["subscriptions"].append({"cluster": "local", "source": secret.name, "service_account": "clinical.reader",
                                      "reason": "x"})

    answer = api_as(alice).post(URL + "?dry_run=true", document, format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "subscriptions[1].source": ["No such topic."],
        "subscriptions[1].service_account": ["The service account must belong to the subscribing team."]}
    assert secret.name not in answer.content.decode()


def test_viewers_export_and_dry_run_but_cannot_apply(api_as, vera, resources):
    client = api_as(vera)
    text = client.get(URL).content.decode()

    assert post_yaml(client, text).status_code == 200
    refused = post_yaml(client, text, query="")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only owners and members of the team can apply its manifest."}


def test_outsiders_cannot_see_a_team_or_its_private_resources(api_as, carol, alice, resources):
    Topic.objects.filter(pk=resources.topic.pk).update(visibility="private")
    client = api_as(carol)

    for answer in (client.get(URL), client.get(URL + "?format=json"),
                   post_yaml(client, api_as(alice).get(URL).content.decode())):
        assert answer.status_code == 404
        assert answer.json() == {"detail": "No such team."}
        assert resources.topic.name not in answer.content.decode()
    assert api_as(carol).get(MANIFEST.format("no-such-team")).status_code == 404


def test_a_read_token_may_plan_with_dry_run_in_the_query_but_not_apply(api_as, alice, resources):
    client = api_as(alice, scope="read")
    text = client.get(URL).content.decode()

    assert post_yaml(client, text).status_code == 200
    refused = post_yaml(client, text, query="")
    assert refused.status_code == 403
    assert "read scope" in refused.json()["detail"]
