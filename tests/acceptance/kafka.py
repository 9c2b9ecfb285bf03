"""Kafka as a team's own service account sees it: SCRAM on the SASL listener, settings from the portal's answer.

Nothing here uses the portal's admin connection: what a team's principal may do is what is checked.
"""

from __future__ import annotations

import json
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient


def client_config(account: dict) -> dict:
    """librdkafka settings from a service account's create (or rotate) answer: its `client_settings` and the
    one-time `password`, exactly what the team copies into its application."""
    return {**account["client_settings"], "sasl.password": account["password"]}


def produce_json(config: dict, topic: str, events: list[dict], *, key: str = "id", transactional: bool = False) -> None:
    """Produce JSON events keyed by `event[key]` and wait for every acknowledgement."""
    settings = {**config, "acks": "all", "enable.idempotence": True}
    if transactional:
        settings["transactional.id"] = f"{config['sasl.username']}.tx-{uuid.uuid4().hex[:8]}"
    producer = Producer(settings)
    errors: list = []

    def delivered(error, _message):
        if error is not None:
            errors.append(error)

    if transactional:
        producer.init_transactions(30)
        producer.begin_transaction()
    for event in events:
        producer.produce(topic, key=str(event[key]).encode(), value=json.dumps(event).encode(), on_delivery=delivered)
    if transactional:
        producer.commit_transaction(30)
    remaining = producer.flush(30)
    assert remaining == 0 and not errors, f"producing to {topic} as {config['sasl.username']}: {errors or remaining}"


def consume(config: dict, topic: str, *, group: str, expect: int, timeout: float = 60,
            settle: float = 2.0, read_committed: bool = True) -> list[dict]:
    """Read `topic` from the beginning in consumer group `group` until `expect` records arrived and nothing
    more came for `settle` seconds (so duplicates or extras show); returns {key, value, headers}."""
    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed" if read_committed else "read_uncommitted"})
    records: list[dict] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        quiet_since = None
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                if len(records) >= expect:
                    quiet_since = quiet_since or time.monotonic()
                    if time.monotonic() - quiet_since >= settle:
                        break
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(message.error())
            quiet_since = None
            records.append({"key": message.key().decode() if message.key() else None,
                            "value": json.loads(message.value()) if message.value() else None,
                            "headers": {k: v.decode() for k, v in (message.headers() or [])},
                            "partition": message.partition(), "offset": message.offset()})
    finally:
        consumer.close()
    return records


def read_to_end(config: dict, topic: str, *, group: str, timeout: float = 60) -> list[dict]:
    """Every record `topic` holds, each partition read from its beginning to its end as of now (so nothing that
    should not be there can hide behind a wait); raw bytes as {key, value, headers, partition, offset,
    timestamp_ms}. Partitions are assigned, so `group` is neither joined nor committed."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False, "enable.partition.eof": True,
                         "isolation.level": "read_committed"})
    records: list[dict] = []
    try:
        partitions = consumer.list_topics(topic, timeout=15).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        ended: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(ended) < len(partitions):
            assert time.monotonic() < deadline, f"{topic}: partitions {sorted(ended)} of {len(partitions)} read to " \
                                                f"their end within {timeout}s"
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(message.error())
                ended.add(message.partition())
                continue
            ended.discard(message.partition())
            records.append({"key": message.key(), "value": message.value(), "headers": message.headers() or [],
                            "partition": message.partition(), "offset": message.offset(),
                            "timestamp_ms": message.timestamp()[1]})
    finally:
        consumer.close()
    return records


def read_refused(config: dict, topic: str, *, group: str, timeout: float = 20) -> KafkaError | None:
    """Try to read `topic`; the broker's authorization error, or None when records (or nothing) came."""
    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is None:
                return None
            if error.code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED):
                return error
    finally:
        consumer.close()
    return None


def describe_topic(config: dict, topic: str) -> dict | None:
    """{partitions: n} of `topic` as the principal may describe it, or None when the broker shows it no such
    topic (absent, or not described to this principal)."""
    admin = AdminClient(config)
    metadata = admin.list_topics(topic=topic, timeout=15).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return None
    return {"partitions": len(metadata.partitions)}
