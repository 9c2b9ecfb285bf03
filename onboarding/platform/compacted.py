"""Tables kept in compacted topics: the configuration the data-plane processes read (routing rules, and the
grants, mappings and aggregation definitions to come).

The adapter knows keys and bytes only; each table's format lives with the process that reads it, and the
reconciler that writes the table encodes the rows. One partition keeps every change in one total order;
compaction keeps only the latest value per key, so reading a table from the beginning stays cheap forever.
"""

from __future__ import annotations

from collections.abc import Mapping

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from onboarding.platform.connection import KafkaConnection
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import translate

COMPACTED = {"cleanup.policy": "compact"}


def write_compacted(connection: KafkaConnection, topic: str, records: Mapping[str, bytes | None], *,
                    timeout: float = 30.0) -> dict[str, PlatformError | None]:
    """Write each key's value (None writes the tombstone that removes it) and wait until the broker has it.

    Outcome per key, so one failed row never hides the others' success.
    """
    if not records:
        return {}
    try:
        producer = Producer({**connection.client_config(), "enable.idempotence": True,
                             "socket.connection.setup.timeout.ms": 5000})
    except KafkaException as exc:
        raise translate(exc, "create producer") from None
    outcomes: dict[str, PlatformError | None] = {}
    for key, value in records.items():
        try:
            produce_and_wait(producer, topic, key, value, timeout)
            outcomes[key] = None
        except KafkaException as exc:
            outcomes[key] = translate(exc, f"write {topic}")
        except TimeoutError as exc:
            outcomes[key] = PlatformError(f"Kafka write {topic} failed: {exc}", retryable=True, code="timeout")
    return outcomes


def produce_and_wait(producer: Producer, topic: str, key: str, value: bytes | None, timeout: float) -> None:
    """One keyed record (None: a tombstone) through the caller's producer, delivered or raised."""
    errors = []
    producer.produce(topic, key=key.encode("utf-8"), value=value,
                     on_delivery=lambda err, _msg: errors.append(err) if err else None)
    if producer.flush(timeout) > 0:
        raise TimeoutError(f"key {key!r} not delivered to {topic!r} within {timeout}s")
    if errors:
        raise KafkaException(errors[0])


def ensure_compacted_topic(connection: KafkaConnection, topic: str, *, timeout: float = 30.0) -> None:
    """Create the single-partition compacted topic unless it exists (topics are not auto-created here).

    A data-plane process calls it at start, before the reconciler may have written the first row; the
    broker's default replication factor applies, as the process knows no cluster policy.
    """
    admin = AdminClient(connection.client_config())
    new = NewTopic(topic, num_partitions=1, replication_factor=-1, config=COMPACTED)
    try:
        admin.create_topics([new], operation_timeout=timeout)[topic].result(timeout)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise translate(exc, "create topic") from None
