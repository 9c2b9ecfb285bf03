"""Atomic batches: ``records:batch`` with ``"atomic": true`` is one Kafka transaction, on the real broker.

What a read_committed consumer sees is the proof: every entry of a committed batch, or nothing of a refused one.
"""

import uuid

from confluent_kafka import Consumer, TopicPartition
from django.conf import settings

from tests.integration.gateway.conftest import read_back


def batch_url(client, topic: str) -> str:
    return f"/v3/clusters/{client.cluster_id}/topics/{topic}/records:batch"


def committed_count(topic: str, partition: int = 0) -> int:
    """How many records a read_committed consumer reads from the partition (transaction markers excluded)."""
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": uuid.uuid4().hex,
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, partition, 0)])
    count = 0
    try:
        while True:
            message = consumer.poll(10)
            assert message is not None, f"no end of {topic}[{partition}] within 10 s"
            if message.error() is not None:  # the partition's end (as far as committed data goes)
                return count
            count += 1
    finally:
        consumer.close()


def test_an_atomic_batch_is_committed_whole_and_read_back_in_order(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-atomic-{uuid.uuid4().hex[:8]}")
    entries = [{"id": str(n), "key": {"type": "STRING", "data": "order-7"},
                "value": {"type": "JSON", "data": {"step": n}}} for n in range(5)]

    response = gateway.post(batch_url(gateway, topic), headers=team.headers, json={"atomic": True, "entries": entries})

    assert response.status_code == 207, response.text
    body = response.json()
    assert body["failures"] == []
    assert [success["id"] for success in body["successes"]] == ["0", "1", "2", "3", "4"]
    first = body["successes"][0]
    produced = read_back(topic, first["partition_id"], first["offset"], count=5)
    assert [message.value() for message in produced] == [b'{"step":%d}' % n for n in range(5)]
    assert committed_count(topic, first["partition_id"]) == 5


def test_one_invalid_entry_refuses_the_atomic_batch_with_its_path_and_nothing_is_produced(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-atomic-bad-{uuid.uuid4().hex[:8]}", partitions=1)
    entries = [{"id": "a", "value": {"type": "STRING", "data": "fine"}},
               {"id": "b", "value": {"type": "BINARY", "data": "%%%"}},
               {"id": "c", "value": {"type": "STRING", "data": "fine too"}}]

    response = gateway.post(batch_url(gateway, topic), headers=team.headers, json={"atomic": True, "entries": entries})

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_code"] == 42206
    assert list(body["errors"]) == ["entries[1].value.data"]
    assert "none was" in body["message"]
    # The same batch without the bad entry shows the topic was empty: the first record read is the new one.
    fixed = gateway.post(batch_url(gateway, topic), headers=team.headers,
                         json={"atomic": True, "entries": [entries[0], entries[2]]})
    assert fixed.status_code == 207 and fixed.json()["failures"] == []
    assert committed_count(topic) == 2


def test_atomic_must_be_a_boolean_and_unknown_batch_fields_are_named(gateway, team, make_topic):
    topic = make_topic(f"payments.gw-atomic-shape-{uuid.uuid4().hex[:8]}")
    entries = [{"id": "a", "value": {"type": "STRING", "data": "x"}}]

    not_boolean = gateway.post(batch_url(gateway, topic), headers=team.headers,
                               json={"atomic": "yes", "entries": entries})
    misspelt = gateway.post(batch_url(gateway, topic), headers=team.headers,
                            json={"atomics": True, "entries": entries})

    assert not_boolean.status_code == 400 and "atomic" in not_boolean.json()["errors"]
    assert misspelt.status_code == 400 and "atomics" in misspelt.json()["errors"]
    assert committed_count(topic) == 0
