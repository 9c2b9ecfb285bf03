"""Tables kept in compacted topics: the configuration the data-plane processes read (routing rules, and the
grants, mappings and aggregation definitions to come).

The adapter knows keys and bytes only; each table's format lives with the process that reads it, and the
reconciler that writes the table encodes the rows. One partition keeps every change in one total order;
compaction keeps only the latest value per key, so reading a table from the beginning stays cheap forever.
A reconciler reads its table back (``read_compacted``) to write only the rows that changed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from onboarding.platform.connection import KafkaConnection
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import translate

logger = logging.getLogger(__name__)

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


def read_compacted(connection: KafkaConnection, topic: str, *, timeout: float = 30.0) -> dict[str, bytes]:
    """The table as it stands: the latest value per key, read from the beginning to the end offsets seen
    at the start (a tombstone removes its key; records written meanwhile wait for the next read).

    The consumer is assigned the partitions itself and never joins or commits to a group (``group.id`` is
    a throwaway name librdkafka wants), so a read leaves no trace on the cluster. An absent topic, a
    timeout or a broker error raises PlatformError.
    """
    consumer = Consumer({
        **connection.client_config(),
        "group.id": f"_portal-table-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        "socket.connection.setup.timeout.ms": 5000,
    })
    try:
        return _read_table(consumer, topic, timeout)
    except KafkaException as exc:
        raise translate(exc, f"read {topic}") from None
    finally:
        consumer.close()


def _read_table(consumer: Consumer, topic: str, timeout: float) -> dict[str, bytes]:
    deadline = time.monotonic() + timeout
    described = consumer.list_topics(topic=topic, timeout=timeout).topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        # The writer creates its table before reading it, so absence is a moment of metadata lag.
        raise PlatformError(f"The table topic {topic} is not on the cluster (yet).", retryable=True,
                            code="UNKNOWN_TOPIC_OR_PART")
    ends, assignments = {}, []
    for partition in sorted(described.partitions):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=_left(deadline))
        if high > low:
            ends[partition] = high
            assignments.append(TopicPartition(topic, partition, low))
    table: dict[str, bytes] = {}
    if not assignments:
        return table
    consumer.assign(assignments)
    pending = set(ends)
    while pending:
        if time.monotonic() >= deadline:
            raise PlatformError(f"Kafka did not send the table {topic} within {timeout:.0f} seconds.",
                                retryable=True, code="_TIMED_OUT")
        message = consumer.poll(min(1.0, _left(deadline)))
        if message is None:
            continue
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                raise KafkaException(error)
            # The end (for read_committed, the last stable offset): compaction or transaction markers may
            # leave no record at end - 1.
            pending.discard(message.partition())
            continue
        partition, offset = message.partition(), message.offset()
        if partition not in pending or offset >= ends[partition]:
            pending.discard(partition)  # past the end seen at the start: the next read has it
            continue
        if message.key() is not None:
            key = message.key().decode("utf-8", errors="replace")
            if message.value() is None:
                table.pop(key, None)
            else:
                table[key] = message.value()
        if offset + 1 >= ends[partition]:
            pending.discard(partition)
    return table


def _left(deadline: float) -> float:
    return max(0.1, deadline - time.monotonic())


class CompactedTableReader:
    """Reads a compacted table topic from the beginning, then follows it; ``apply(message)`` gets each record.

    It has its own consumer without group membership (manual assignment, nothing committed): every reader
    of a data-plane table must see every row, so readers cannot share the topic's partitions as a group would.
    ``apply`` answers whether the record changed the reader's table.
    """

    def __init__(self, topic: str, kafka_config: dict, *, apply: Callable[[Message], bool], what: str,
                 extra_config: dict | None = None):
        self.topic, self.what, self._apply = topic, what, apply
        self._consumer = Consumer({
            **kafka_config,
            # librdkafka wants a group id, but with assign() it never joins nor commits to it.
            "group.id": f"portal-table-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            **(extra_config or {}),
        })
        self._partitions: list[int] = []
        self._eof: set[int] = set()

    def catch_up(self, timeout: float = 30.0) -> None:
        """Read until the end of every partition as of now (the end-of-partition event proves it)."""
        deadline = time.monotonic() + timeout
        if not self._partitions:
            self._assign(timeout)
        while len(self._eof) < len(self._partitions):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.what} topic {self.topic!r} not read to its end within {timeout}s")
            self.consume(min(remaining, 1.0))

    def consume(self, timeout: float) -> bool:
        """Apply the records written since the last call; True if any changed the table."""
        changed = False
        for message in self._consumer.consume(num_messages=500, timeout=timeout):
            error = message.error()
            if error is None:
                changed = self._apply(message) or changed
            elif error.code() == KafkaError._PARTITION_EOF:
                self._eof.add(message.partition())
            elif error.fatal():
                raise KafkaException(error)
            else:
                logger.warning("%s topic %s: %s", self.what, self.topic, error)
        return changed

    def close(self) -> None:
        self._consumer.close()

    def _assign(self, timeout: float) -> None:
        metadata = self._consumer.list_topics(self.topic, timeout=timeout)
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            raise RuntimeError(f"{self.what} topic {self.topic!r} is not available: "
                               f"{topic.error if topic else 'absent'}")
        self._partitions = sorted(topic.partitions)
        self._consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in self._partitions])


class TableReader:
    """A data-plane table (``table.apply(message) -> bool``) read from its compacted topic from the beginning,
    then followed: the rules of the routers, the mappings of the mappers. ``group_id`` is never joined; a principal
    limited to its own group names still needs it to be one of them."""

    def __init__(self, topic: str, kafka_config: dict, table, *, what: str, group_id: str | None = None):
        self.topic = topic
        self.table = table
        self._reader = CompactedTableReader(topic, kafka_config, apply=table.apply, what=what,
                                            extra_config={"group.id": group_id} if group_id else None)

    def catch_up(self, timeout: float = 30.0):
        """Read every row written so far; the table."""
        self._reader.catch_up(timeout)
        return self.table

    def poll_changes(self, timeout: float = 0) -> bool:
        """Apply rows written since the last call; True if any changed the table."""
        return self._reader.consume(timeout)

    def close(self) -> None:
        self._reader.close()
