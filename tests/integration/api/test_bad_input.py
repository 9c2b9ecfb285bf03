"""Bad input answers 400 (413 for an oversized body) with the service's own words per field; never 500."""

import json

import pytest

from onboarding.models import Topic
from onboarding.services.topics import topic_create_errors
from tests.integration.api.conftest import TOPICS, topic_url

pytestmark = pytest.mark.django_db

NAME_PATTERN = r"^payments\.[a-z0-9][a-z0-9._-]*$"


@pytest.fixture
def alice_api(api_as, alice, cluster):
    return api_as(alice)


def create_body(**overrides):
    body = {"cluster": "local", "team": "payments", "name": "payments.orders", "partitions": 3,
            "replication_factor": 1, "configs": {"retention.ms": "3600000"}}
    body.update(overrides)
    return body


CREATE_CASES = {
    "illegal characters": (
        {"name": "payments.orders!"}, "name",
        "Kafka topic names may only contain letters, digits, '.', '_' and '-'; found '!'."),
    "name outside the team's pattern": (
        {"name": "clinical.orders"}, "name",
        f"The name must match this cluster's pattern {NAME_PATTERN}; for example payments.orders."),
    "empty name": ({"name": ""}, "name", "Enter a topic name."),
    "missing name": ({"name": None}, "name", "This field is required."),
    "too many partitions": (
        {"partitions": 1000}, "partitions", "Partitions must be between 1 and 24 on this cluster."),
    "no partitions": ({"partitions": 0}, "partitions", "Partitions must be between 1 and 24 on this cluster."),
    "partitions not a number": ({"partitions": "abc"}, "partitions", "A valid integer is required."),
    "replication factor outside policy": (
        {"replication_factor": 2}, "replication_factor", "Replication factor must be one of 1, 3 on this cluster."),
    "unknown config key": (
        {"configs": {"unclean.leader.election.enable": "true"}}, "configs",
        "unclean.leader.election.enable: this config cannot be set by teams on this cluster (allowed: cleanup.policy, "
        "compression.type, max.message.bytes, message.timestamp.type, min.insync.replicas, retention.bytes, "
        "retention.ms, segment.ms)."),
    "config value out of range": (
        {"configs": {"retention.ms": 5}}, "configs", "retention.ms: must be at least 60 000; got 5."),
    "config value of the wrong type": (
        {"configs": {"retention.ms": "a week"}}, "configs", "retention.ms: must be a whole number; got 'a week'."),
    "config value an object": (
        {"configs": {"retention.ms": {"days": 7}}}, "configs", "retention.ms: the value must be a string or a number."),
    "config choice not offered": (
        {"configs": {"cleanup.policy": "forever"}}, "configs",
        "cleanup.policy: must be one of delete, compact, compact,delete; got 'forever'."),
    "min.insync.replicas above the replication factor": (
        {"configs": {"min.insync.replicas": 2}}, "configs",
        "min.insync.replicas: must not exceed the replication factor (1), or no write could ever succeed."),
    "configs a list": (
        {"configs": ["retention.ms=1"]}, "configs", 'Expected a dictionary of items but got type "list".'),
    "tags a string": ({"tags": "orders"}, "tags", 'Expected a list of items but got type "str".'),
    "tag with capitals": (
        {"tags": ["Orders"]}, "tags",
        "Tags use lowercase letters, digits and '-' (at most 40 characters); not: Orders."),
    "unknown visibility": ({"visibility": "secret"}, "visibility", "Choose public or private."),
    "description too long": ({"description": "x" * 5001}, "description", "Keep the description under 5000 characters."),
    "null character": ({"description": "a\x00b"}, "description", "Null characters are not allowed."),
    "unknown cluster": ({"cluster": "nowhere"}, "cluster", "There is no cluster named 'nowhere'."),
    "unknown team": ({"team": "ghosts"}, "team", "There is no team with the slug 'ghosts'."),
    "misspelt field": (
        {"partiton": 6}, "partiton", "Unknown field; see the API schema for the fields this request accepts."),
}


@pytest.mark.parametrize("overrides, field, message", CREATE_CASES.values(), ids=CREATE_CASES.keys())
def test_a_bad_create_is_400_with_the_field_message(alice_api, overrides, field, message):
    body = {k: v for k, v in create_body(**overrides).items() if v is not None}

    answer = alice_api.post(TOPICS, body, format="json")

    assert answer.status_code == 400, answer.content
    assert message in answer.json()["errors"][field]
    assert not Topic.objects.exists()


def test_taken_and_colliding_names_are_refused(alice_api, payments_topic):
    payments_topic(name="payments.card_events")

    duplicate = alice_api.post(TOPICS, create_body(name="payments.card_events"), format="json")
    collision = alice_api.post(TOPICS, create_body(name="payments.card.events"), format="json")

    assert duplicate.status_code == collision.status_code == 400
    assert duplicate.json() == {"errors": {"name": ["A topic with this name already exists on this cluster."]}}
    assert collision.json()["errors"]["name"] == [
        "This name collides with the existing topic payments.card_events: Kafka treats '.' and '_' alike in metric "
        "names."]


def test_the_api_gives_exactly_the_errors_the_browser_form_shows(alice_api, cluster, payments):
    bad = {"name": "payments.Orders", "partitions": 99, "replication_factor": 2, "configs": {"retention.ms": "1"},
           "tags": ["Bad Tag"], "visibility": "hidden", "description": ""}

    answer = alice_api.post(TOPICS, create_body(**bad), format="json")

    form_errors = topic_create_errors(cluster=cluster, team=payments, **bad)
    assert answer.status_code == 400
    assert answer.json() == {"errors": form_errors}
    assert set(form_errors) == {"name", "partitions", "replication_factor", "configs", "tags", "visibility"}


UPDATE_CASES = {
    "shrinking partitions": (
        {"partitions": 2}, "partitions", "Partitions can grow but never shrink: this topic has 3."),
    "growing past the policy": (
        {"partitions": 25}, "partitions", "Partitions must be between 1 and 24 on this cluster."),
    "changing the replication factor": (
        {"replication_factor": 3}, "replication_factor",
        "The replication factor cannot change in place: this topic has 1."),
    "renaming": (
        {"name": "payments.renamed"}, "name",
        "The name of a topic cannot change (it is {name}); create a new topic instead."),
    "moving to another team": (
        {"team": "clinical"}, "team",
        "The team of a topic cannot change (it is payments); create a new topic instead."),
    "unknown config key": (
        {"configs": {"segment.bytes": "1"}}, "configs",
        "segment.bytes: this config cannot be set by teams on this cluster (allowed: cleanup.policy, compression.type, "
        "max.message.bytes, message.timestamp.type, min.insync.replicas, retention.bytes, retention.ms, segment.ms)."),
    "config out of range": (
        {"configs": {"max.message.bytes": 100_000_000}}, "configs",
        "max.message.bytes: must be at most 8 388 608; got 100 000 000."),
    "unknown drift reaction": (
        {"drift_reaction": "ignore"}, "drift_reaction", "Choose revert, report or the cluster default."),
    "partitions a string": ({"partitions": "many"}, "partitions", "A valid integer is required."),
    "generation not a number": ({"generation": "latest"}, "generation", "A valid integer is required."),
}


@pytest.mark.parametrize("change, field, message", UPDATE_CASES.values(), ids=UPDATE_CASES.keys())
def test_a_bad_update_is_400_with_the_field_message(alice_api, payments_topic, change, field, message):
    topic = payments_topic(configs={"retention.ms": "3600000"})

    answer = alice_api.patch(topic_url(topic), change, format="json")

    assert answer.status_code == 400, answer.content
    assert message.format(name=topic.name) in answer.json()["errors"][field]
    topic.refresh_from_db()
    assert (topic.generation, topic.partitions, topic.configs) == (1, 3, {"retention.ms": "3600000"})


def test_put_needs_every_changeable_field(alice_api, payments_topic):
    topic = payments_topic()

    answer = alice_api.put(topic_url(topic), {"partitions": 4}, format="json")

    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"configs", "description", "tags", "visibility", "drift_reaction"}


def test_a_malformed_if_match_is_400(alice_api, payments_topic):
    answer = alice_api.patch(topic_url(payments_topic()), {"description": "x"}, format="json", HTTP_IF_MATCH="latest")

    assert answer.status_code == 400
    assert "If-Match" in answer.json()["errors"]


@pytest.mark.parametrize("raw, message", [
    ('{"name": "payments.orders",', "JSON parse error"),
    ('{"partitions": NaN}', "JSON parse error"),
    ("[1, 2]", "Invalid data. Expected a dictionary, but got list."),
    ('"payments.orders"', "Invalid data. Expected a dictionary, but got str."),
    (b'{"name": "payments.\xff"}', "JSON parse error"),
])
def test_a_body_that_is_not_a_json_object_is_400(alice_api, raw, message):
    answer = alice_api.generic("POST", TOPICS, raw, content_type="application/json")

    assert answer.status_code == 400
    assert message in answer.json()["errors"]["non_field_errors"][0]


def test_an_oversized_body_is_413_in_json_and_nothing_is_created(alice_api, settings):
    body = json.dumps(create_body(description="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)))

    answer = alice_api.generic("POST", TOPICS, body, content_type="application/json")

    assert answer.status_code == 413
    assert "larger than the API accepts" in answer.json()["detail"]
    assert not Topic.objects.exists()


def test_a_form_encoded_body_is_415_in_json(alice_api):
    answer = alice_api.post(TOPICS, "name=payments.orders", content_type="application/x-www-form-urlencoded")

    assert answer.status_code == 415
    assert "Unsupported media type" in answer.json()["detail"]


def test_a_bad_filter_value_is_400_and_an_unknown_path_a_json_404(alice_api):
    bad_filter = alice_api.get(f"{TOPICS}?status=sleeping")
    no_slash = alice_api.post(TOPICS.rstrip("/"), create_body(), format="json")
    unknown = alice_api.get("/api/v1/no-such-resource/")
    not_an_id = alice_api.get(f"{TOPICS}abc/")

    assert bad_filter.status_code == 400
    assert "status" in bad_filter.json()["errors"]
    assert no_slash.status_code == unknown.status_code == not_an_id.status_code == 404
    assert "trailing slash" in no_slash.json()["detail"]
    assert "No such API endpoint" in unknown.json()["detail"]


def test_a_huge_id_is_a_404_not_a_database_error(alice_api):
    assert alice_api.get(f"{TOPICS}{2**70}/").status_code == 404
