"""Reading the last events of a topic for a person to look at (peek), behind PlatformError.

The reader assigns partitions itself at ``end - N`` and never joins or commits to a consumer group:
``group.id`` is a throwaway name (librdkafka wants one) and auto commit and offset storing are off, so a
peek leaves no trace on the cluster and cannot move anyone's offsets.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from onboarding.platform.connection import KafkaConnection
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import translate


@dataclass(frozen=True)
class RawRecord:
    """One record as the broker has it: bytes, not yet decoded."""

    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


def read_latest(connection: KafkaConnection, topic: str, limit: int, *, timeout: float = 8.0) -> list[RawRecord]:
    """The last ``limit`` records of ``topic`` over all partitions, oldest first (by timestamp).

    Each partition is read from ``max(low, high - limit)`` to its end, so at most ``limit`` records per
    partition are fetched; the newest ``limit`` of them are kept. Bounded by ``timeout`` seconds.
    """
    consumer = Consumer({
        **connection.client_config(),
        "group.id": f"_portal-peek-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        "socket.connection.setup.timeout.ms": 5000,
    })
    try:
        return _read(consumer, topic, limit, timeout)
    except KafkaException as exc:
        raise translate(exc, "read") from None
    finally:
        consumer.close()


def _read(consumer: Consumer, topic: str, limit: int, timeout: float) -> list[RawRecord]:
    deadline = time.monotonic() + timeout
    metadata = consumer.list_topics(topic=topic, timeout=timeout)
    described = metadata.topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        raise PlatformError(f"The topic {topic} is not on the cluster (yet).", retryable=False,
                            code="UNKNOWN_TOPIC_OR_PART")
    assignments, ends = [], {}
    for partition in sorted(described.partitions):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=_left(deadline))
        if high > low:
            assignments.append(TopicPartition(topic, partition, max(low, high - limit)))
            ends[partition] = high
    if not assignments:
        return []
    consumer.assign(assignments)
    records: list[RawRecord] = []
    pending = set(ends)
    while pending and time.monotonic() < deadline:
        message = consumer.poll(min(1.0, _left(deadline)))
        if message is None:
            continue
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                pending.discard(message.partition())
                continue
            raise KafkaException(error)
        records.append(_raw(message))
        if message.offset() + 1 >= ends[message.partition()]:
            pending.discard(message.partition())
    if pending and not records:
        raise PlatformError(f"Kafka did not send the events of {topic} within {timeout:.0f} seconds.",
                            retryable=True, code="_TIMED_OUT")
    records.sort(key=lambda r: (r.timestamp_ms or 0, r.partition, r.offset))
    return records[-limit:]


def _left(deadline: float) -> float:
    return max(0.1, deadline - time.monotonic())


def _raw(message) -> RawRecord:
    kind, stamp = message.timestamp()
    return RawRecord(partition=message.partition(), offset=message.offset(), timestamp_ms=stamp if kind else None,
                     key=message.key(), value=message.value(), headers=tuple(message.headers() or ()))
