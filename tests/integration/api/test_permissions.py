"""Roles through the API: outsiders cannot touch payments topics (and cannot see private ones),
viewers read only, members write, owners decide about drift, operators import."""

import pytest

from onboarding.models import AuditEvent, Topic
from tests.integration.api.conftest import TOPICS, new_name, topic_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_topic(payments_topic):
    return payments_topic(visibility=Topic.Visibility.PUBLIC)


@pytest.fixture
def private_topic(payments_topic):
    return payments_topic(visibility=Topic.Visibility.PRIVATE)


def every_write(client, topic):
    url = topic_url(topic)
    full = {"partitions": 4, "configs": {}, "description": "", "tags": [], "visibility": "public", "drift_reaction": ""}
    return {
        "patch": client.patch(url, {"description": "mine now"}, format="json"),
        "put": client.put(url, full, format="json"),
        "delete": client.delete(f"{url}?confirm={topic.name}"),
        "revert": client.post(f"{url}revert/"),
        "adopt": client.post(f"{url}adopt/"),
    }


def assert_untouched(topic):
    before = (topic.generation, topic.description, topic.status)
    topic.refresh_from_db()
    assert (topic.generation, topic.description, topic.status) == before


def test_an_outsider_gets_403_on_every_write_to_a_public_payments_topic(api_as, carol, public_topic):
    client = api_as(carol)

    answers = every_write(client, public_topic)

    assert {verb: a.status_code for verb, a in answers.items()} == dict.fromkeys(answers, 403)
    assert answers["patch"].json() == {"detail": "Only owners and members of the team can change its topics."}
    assert client.get(topic_url(public_topic)).status_code == 200  # public: readable by everyone
    assert_untouched(public_topic)


def test_a_private_payments_topic_does_not_exist_for_an_outsider(api_as, carol, private_topic, public_topic):
    client = api_as(carol)

    answers = every_write(client, private_topic)
    read = client.get(topic_url(private_topic))
    attempts = client.get(f"{topic_url(private_topic)}attempts/")
    listed = [t["name"] for t in client.get(TOPICS).json()["results"]]

    assert {verb: a.status_code for verb, a in answers.items()} == dict.fromkeys(answers, 404)
    assert read.status_code == attempts.status_code == 404
    assert read.json() == {"detail": "No such topic."}
    assert listed == [public_topic.name]
    assert_untouched(private_topic)


def test_an_outsider_cannot_create_topics_for_payments(api_as, carol, cluster, payments):
    answer = api_as(carol).post(TOPICS, {"cluster": "local", "team": "payments", "name": new_name()}, format="json")

    assert answer.status_code == 403
    assert answer.json() == {"detail": "Only owners and members of the team can create its topics."}
    assert not Topic.objects.exists()


def test_a_viewer_reads_private_topics_of_the_team_but_cannot_write(api_as, vera, private_topic):
    client = api_as(vera)

    assert client.get(topic_url(private_topic)).status_code == 200
    answers = every_write(client, private_topic)
    created = client.post(TOPICS, {"cluster": "local", "team": "payments", "name": new_name()}, format="json")

    assert {verb: a.status_code for verb, a in answers.items()} == dict.fromkeys(answers, 403)
    assert created.status_code == 403
    assert_untouched(private_topic)


def test_a_member_changes_a_topic_and_the_audit_says_it_came_through_the_api(api_as, bob, private_topic):
    answer = api_as(bob).patch(topic_url(private_topic), {"description": "Card payments, one event per charge."},
                               format="json")

    assert answer.status_code == 200
    assert answer.json()["description"] == "Card payments, one event per charge."
    event = AuditEvent.objects.get(action="topic.update", resource_id=str(private_topic.pk))
    assert (event.actor_name, event.via) == ("bob", "api")


def test_only_owners_decide_about_drift(api_as, bob, alice, public_topic):
    member = api_as(bob).post(f"{topic_url(public_topic)}revert/")
    owner = api_as(alice).post(f"{topic_url(public_topic)}revert/")

    assert member.status_code == 403
    assert member.json() == {"detail": "Only the team's owners or platform operators decide about drift."}
    assert owner.status_code == 400  # allowed, but there is no drift to revert
    assert owner.json() == {"errors": {"non_field_errors": ["The topic has no drift to revert."]}}


def test_cluster_import_endpoints_are_for_operators_only(api_as, alice, cluster):
    client = api_as(alice)

    listed = client.get(f"/api/v1/clusters/{cluster.pk}/unmanaged-topics/")
    imported = client.post(f"/api/v1/clusters/{cluster.pk}/import/", {"team": "payments", "names": ["x"]},
                           format="json")

    assert listed.status_code == imported.status_code == 403
    assert listed.json() == {"detail": "Only platform operators can do this."}


def test_teams_are_visible_to_their_members_only(api_as, alice, carol, operator):
    own = api_as(alice).get("/api/v1/teams/").json()["results"]
    clinical_id = api_as(carol).get("/api/v1/teams/").json()["results"][0]["id"]

    assert [t["slug"] for t in own] == ["payments"]
    assert own[0]["members"] == [{"username": "alice", "role": "owner", "source": "manual"}]
    assert own[0]["contacts"] == "payments@example.org"
    assert api_as(alice).get(f"/api/v1/teams/{clinical_id}/").status_code == 404
    assert [t["slug"] for t in api_as(operator).get("/api/v1/teams/").json()["results"]] == ["clinical", "payments"]
