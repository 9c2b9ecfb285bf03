"""Helpers for the REST API tests: clients that authenticate with real API tokens, unique topic
names and clean-up of what a test leaves on the shared broker."""

import uuid

import pytest
from confluent_kafka import KafkaException

from onboarding.models import Topic
from onboarding.services.topics import topic_create

TOPICS = "/api/v1/topics/"


def new_name(team: str = "payments") -> str:
    """The broker is shared and keeps topics across runs: every test uses fresh names."""
    return f"{team}.{uuid.uuid4().hex}"


def topic_url(topic_or_id) -> str:
    return f"{TOPICS}{getattr(topic_or_id, 'pk', topic_or_id)}/"


@pytest.fixture
def payments_topic(cluster, alice):
    """``payments_topic(**fields)``: a topic of payments registered through the service (no worker needed)."""

    def make(**fields) -> Topic:
        fields.setdefault("name", new_name())
        fields.setdefault("partitions", 3)
        fields.setdefault("replication_factor", 1)
        return topic_create(actor=alice, cluster=cluster, team=alice.memberships.get().team, **fields)

    return make


@pytest.fixture
def broker_topics(kafka_admin):
    """Names a test puts on the broker; whatever is still there at the end is deleted."""
    names: list[str] = []
    yield names
    existing = set(kafka_admin.list_topics(timeout=10).topics)
    leftovers = [name for name in names if name in existing]
    if leftovers:
        for future in kafka_admin.delete_topics(leftovers, operation_timeout=30).values():
            try:
                future.result(30)
            except KafkaException:
                pass  # deleted meanwhile: nothing left to clean


@pytest.fixture
def subjects(registry_http, registry_url):
    """Subjects a test may have created in the registry; removed (soft, then permanently) at the end."""
    made: list[str] = []
    yield made
    for subject in made:
        registry_http.delete(f"{registry_url}/subjects/{subject}", timeout=10)
        registry_http.delete(f"{registry_url}/subjects/{subject}", params={"permanent": "true"}, timeout=10)


@pytest.fixture
def schema_topic(payments_topic, topic_name, subjects):
    """``schema_topic(visibility=...)``: a fresh payments topic whose subjects are cleaned up afterwards."""

    def make(visibility: str = Topic.Visibility.PUBLIC) -> Topic:
        topic = payments_topic(name=topic_name("s"), partitions=1, visibility=visibility)
        subjects.extend([f"{topic.name}-value", f"{topic.name}-key"])
        return topic

    return make
