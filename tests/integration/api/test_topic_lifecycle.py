"""Topics through the API on the real broker: a real Celery worker applies every change, and the
broker itself is asked whether it happened."""

import pytest
from confluent_kafka.admin import ConfigResource, NewTopic

from onboarding.models import Topic
from tests.fixtures.waiting import wait_for, wait_for_status
from tests.integration.api.conftest import TOPICS, new_name, topic_url

pytestmark = pytest.mark.django_db(transaction=True)


def broker_partitions(kafka_admin, name: str) -> int | None:
    topics = kafka_admin.list_topics(topic=name, timeout=10).topics
    meta = topics.get(name)
    return None if meta is None or meta.error is not None else len(meta.partitions)


def broker_configs(kafka_admin, name: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    entries = kafka_admin.describe_configs([resource])[resource].result(30)
    return {key: entry.value for key, entry in entries.items()}


def settled(topic_id: int, *statuses: str) -> Topic:
    topic = wait_for_status(Topic.objects.get(pk=topic_id), *statuses, "failed")
    assert topic.status in statuses, topic.last_error
    return topic


@pytest.fixture
def client(api_as, alice, cluster, celery_worker):
    return api_as(alice)


@pytest.fixture
def ready_topic(client, broker_topics):
    """A topic created through the API and applied to the broker by the worker: (id, name)."""
    name = new_name()
    broker_topics.append(name)
    answer = client.post(TOPICS, {"cluster": "local", "team": "payments", "name": name, "partitions": 3,
                                  "replication_factor": 1,
                                  "configs": {"retention.ms": 3_600_000, "cleanup.policy": "delete"},
                                  "tags": ["orders"], "description": "Orders as they are placed."}, format="json")
    assert answer.status_code == 201, answer.content
    settled(answer.json()["id"], "ready")
    return answer.json()["id"], name


def test_a_topic_created_through_the_api_exists_on_the_broker_as_asked(client, ready_topic, kafka_admin):
    topic_id, name = ready_topic

    assert broker_partitions(kafka_admin, name) == 3
    configs = broker_configs(kafka_admin, name)
    assert (configs["retention.ms"], configs["cleanup.policy"]) == ("3600000", "delete")
    shown = client.get(topic_url(topic_id)).json()
    assert (shown["status"], shown["generation"], shown["observed_generation"]) == ("ready", 1, 1)
    assert shown["ready_at"] is not None and shown["last_error"] == ""
    [attempt] = client.get(f"{topic_url(topic_id)}attempts/").json()
    assert (attempt["generation"], attempt["outcome"], attempt["error"]) == (1, "ready", "")
    assert attempt["actions"][0].startswith("create topic with 3 partitions, replication factor 1")
    assert attempt["duration_ms"] >= 0 and attempt["started_at"]


def test_changing_configs_with_patch_changes_them_on_the_broker(client, ready_topic, kafka_admin):
    topic_id, name = ready_topic
    etag = client.get(topic_url(topic_id))["ETag"]

    answer = client.patch(topic_url(topic_id), {"configs": {"retention.ms": "7200000", "cleanup.policy": "compact"}},
                          format="json", HTTP_IF_MATCH=etag)

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "pending"
    topic = settled(topic_id, "ready")
    assert topic.observed_generation == topic.generation == 2
    configs = broker_configs(kafka_admin, name)
    assert (configs["retention.ms"], configs["cleanup.policy"]) == ("7200000", "compact")


def test_adding_partitions_with_patch_adds_them_on_the_broker(client, ready_topic, kafka_admin):
    topic_id, name = ready_topic

    answer = client.patch(topic_url(topic_id), {"partitions": 5, "generation": 1}, format="json")

    assert answer.status_code == 200, answer.content
    settled(topic_id, "ready")
    assert wait_for(lambda: broker_partitions(kafka_admin, name) == 5, timeout=30, message="5 partitions")
    history = client.get(f"{topic_url(topic_id)}attempts/").json()
    assert history[0]["actions"] == ["increase partitions to 5"]


def test_deleting_removes_the_topic_from_the_broker_and_keeps_the_record(client, ready_topic, kafka_admin):
    topic_id, name = ready_topic

    refused = client.delete(topic_url(topic_id), {"confirm_name": "payments.something-else"}, format="json")
    answer = client.delete(f"{topic_url(topic_id)}?confirm={name}")

    assert refused.status_code == 400
    assert refused.json() == {"errors": {"confirm_name": [f"Type the topic's name, {name}, to confirm."]}}
    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "deleting"
    settled(topic_id, "deleted")
    wait_for(lambda: broker_partitions(kafka_admin, name) is None, timeout=30, message=f"{name} gone from the broker")
    shown = client.get(topic_url(topic_id))
    assert shown.status_code == 200 and shown.json()["status"] == "deleted"
    again = client.delete(topic_url(topic_id), {"confirm_name": name}, format="json")
    assert again.status_code == 400
    assert again.json() == {"errors": {"non_field_errors": ["This topic is deleted or being deleted."]}}


def test_an_operator_imports_a_topic_that_exists_only_on_the_broker(api_as, operator, cluster, payments,
                                                                    kafka_admin, broker_topics, celery_worker):
    name = new_name()
    broker_topics.append(name)
    kafka_admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1,
                                        config={"retention.ms": "600000"})])[name].result(30)
    client = api_as(operator)
    url = f"/api/v1/clusters/{cluster.pk}/"

    unmanaged = {t["name"]: t for t in client.get(f"{url}unmanaged-topics/").json()}
    missing = client.post(f"{url}import/", {"team": "payments", "names": [name, "payments.not-there"]}, format="json")
    no_team = client.post(f"{url}import/", {"team": "ghosts", "names": [name]}, format="json")
    imported = client.post(f"{url}import/", {"team": "payments", "names": [name]}, format="json")

    assert unmanaged[name] == {"name": name, "partitions": 2, "replication_factor": 1,
                               "configs": {"retention.ms": "600000"}}
    assert missing.status_code == 400
    assert missing.json()["errors"]["names"] == ["Not on the cluster or already managed: payments.not-there."]
    assert no_team.status_code == 400 and "team" in no_team.json()["errors"]
    assert imported.status_code == 201, imported.content
    [topic] = imported.json()
    assert (topic["team"], topic["partitions"], topic["configs"]) == ("payments", 2, {"retention.ms": "600000"})
    settled(topic["id"], "ready")
    assert name not in {t["name"] for t in client.get(f"{url}unmanaged-topics/").json()}
