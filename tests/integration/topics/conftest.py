"""Helpers for topic tests on the real broker: unique names and cleanup of what a test created."""

import uuid

import pytest
from confluent_kafka.admin import ConfigResource, ResourceType


@pytest.fixture
def topic_name():
    """Unique `payments.*` names; the broker is shared and keeps topics between runs."""
    made = []

    def make(stem: str = "t") -> str:
        name = f"payments.{stem}-{uuid.uuid4().hex[:8]}"
        made.append(name)
        return name

    yield make
    _cleanup(made)


def _cleanup(names):
    from django.conf import settings
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    existing = set(admin.list_topics(timeout=10).topics) & set(names)
    if existing:
        for future in admin.delete_topics(list(existing), operation_timeout=30).values():
            future.result(30)


def broker_topic(kafka_admin, name):
    """(partitions, topic-level configs) as the broker reports them, or None if absent."""
    metadata = kafka_admin.list_topics(timeout=10)
    if name not in metadata.topics:
        return None
    resource = ConfigResource(ResourceType.TOPIC, name)
    entries = kafka_admin.describe_configs([resource])[resource].result(10)
    configs = {k: e.value for k, e in entries.items() if e.source == 1}  # DYNAMIC_TOPIC_CONFIG
    return len(metadata.topics[name].partitions), configs
