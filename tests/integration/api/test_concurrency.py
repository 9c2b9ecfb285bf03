"""Optimistic concurrency: a change based on an old generation never overwrites a newer one."""

import pytest

from tests.integration.api.conftest import topic_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api_as, alice, cluster):
    return api_as(alice)


def test_get_sends_the_generation_as_etag_and_a_kafka_change_moves_it(client, payments_topic):
    topic = payments_topic()

    read = client.get(topic_url(topic))
    changed = client.patch(topic_url(topic), {"configs": {"retention.ms": "7200000"}}, format="json",
                           HTTP_IF_MATCH=read["ETag"])

    assert read["ETag"] == '"1"'
    assert changed.status_code == 200
    assert changed["ETag"] == '"2"'
    assert changed.json()["generation"] == 2
    assert changed.json()["status"] == "pending"
    assert changed.json()["configs"] == {"retention.ms": "7200000"}


def test_a_stale_if_match_is_412_and_changes_nothing(client, payments_topic):
    topic = payments_topic()
    client.patch(topic_url(topic), {"partitions": 4}, format="json", HTTP_IF_MATCH='"1"')

    stale = client.patch(topic_url(topic), {"partitions": 6}, format="json", HTTP_IF_MATCH='"1"')

    assert stale.status_code == 412
    assert stale.json()["current_generation"] == 2
    assert "changed since you loaded it" in stale.json()["detail"]
    topic.refresh_from_db()
    assert (topic.generation, topic.partitions) == (2, 4)


def test_a_stale_generation_in_the_body_is_409_and_changes_nothing(client, payments_topic):
    topic = payments_topic()
    client.patch(topic_url(topic), {"partitions": 4, "generation": 1}, format="json")

    stale = client.patch(topic_url(topic), {"partitions": 6, "generation": 1}, format="json")

    assert stale.status_code == 409
    assert stale.json() == {
        "detail": "The topic changed since you loaded it (now at generation 2, you had 1). Reload it and apply your "
                  "change again.",
        "current_generation": 2,
    }
    topic.refresh_from_db()
    assert (topic.generation, topic.partitions) == (2, 4)


def test_a_weak_or_unquoted_etag_and_a_star_are_accepted(client, payments_topic):
    for header in ('W/"1"', "1", "*"):
        topic = payments_topic()  # each edit moves the generation, so each header gets a fresh topic
        answer = client.patch(topic_url(topic), {"description": header}, format="json", HTTP_IF_MATCH=header)
        assert answer.status_code == 200, (header, answer.content)


def test_what_get_returned_can_be_put_back_with_a_change(client, payments_topic):
    topic = payments_topic(tags=["orders"])
    representation = client.get(topic_url(topic)).json()
    representation["configs"] = {"retention.ms": "86400000"}
    representation["tags"] = ["orders", "pci"]

    answer = client.put(topic_url(topic), representation, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["tags"] == ["orders", "pci"]
    assert answer.json()["generation"] == 2
    stale = client.put(topic_url(topic), representation, format="json")  # still says generation 1
    assert stale.status_code == 409


@pytest.mark.parametrize("edit", [{"description": "All orders"}, {"tags": ["orders"]}, {"visibility": "private"}],
                         ids=["description", "tags", "visibility"])
def test_a_metadata_edit_moves_the_etag_so_a_change_based_on_the_old_one_is_412(client, payments_topic, edit):
    topic = payments_topic()
    read = client.get(topic_url(topic))

    edited = client.patch(topic_url(topic), edit, format="json", HTTP_IF_MATCH=read["ETag"])
    stale = client.patch(topic_url(topic), {"description": "Lost update"}, format="json",
                         HTTP_IF_MATCH=read["ETag"])

    assert edited.status_code == 200, edited.content
    assert edited["ETag"] == '"2"'
    assert stale.status_code == 412
    assert stale.json()["current_generation"] == 2
    topic.refresh_from_db()
    assert topic.description != "Lost update"


def test_a_metadata_edit_with_a_stale_body_generation_is_409(client, payments_topic):
    topic = payments_topic()
    client.patch(topic_url(topic), {"description": "First", "generation": 1}, format="json")

    stale = client.patch(topic_url(topic), {"tags": ["late"], "generation": 1}, format="json")

    assert stale.status_code == 409
    topic.refresh_from_db()
    assert (topic.description, topic.tags) == ("First", [])
