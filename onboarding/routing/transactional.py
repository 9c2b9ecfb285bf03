"""Consume, transform and produce exactly once: the Kafka transaction loop the router and the mapper share.

Consume-transform-produce in Kafka transactions (KIP-447 style): the records a batch produces and the consumer
offsets after that batch are committed in one transaction, so a crash at any point either leaves both or
neither. Outputs are read with isolation.level=read_committed.

A batch is handled completely between two consume() calls, and rebalance callbacks only run inside consume():
so no transaction is ever open while partitions are revoked. If the group moved on anyway (a fenced
generation), committing the offsets fails, the transaction is aborted and the consumer rewound to the committed
offsets, and whoever owns the partitions now redoes the batch.

A process subclasses ``TransactionalLoop``: it chooses its topics (``subscribe``), polls (``poll_batch``) and
hands each batch with its own per-record work to ``commit_batch``, producing through ``produce``.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from opentelemetry.trace import SpanKind

from onboarding.platform.errors import PlatformError
from onboarding.routing.liveness import Liveness
from portal.observability import tracing

logger = logging.getLogger(__name__)

_COMMIT_ATTEMPTS = 5
# How often the list of existing topics is refreshed when a record names one not seen yet.
_TOPICS_REFRESH_SECONDS = 5.0


def process_span(message, group_id: str):
    """The consumer span of handling one record (tracing on): a child of the producer's traceparent header, so
    whatever the record becomes carries the same trace (``tracing.headers_with_context``)."""
    return tracing.tracer.start_as_current_span(
        f"{message.topic()} process", context=tracing.context_from_headers(message.headers()),
        kind=SpanKind.CONSUMER, attributes={
            "messaging.system": "kafka", "messaging.operation.type": "process",
            "messaging.destination.name": message.topic(),
            "messaging.destination.partition.id": str(message.partition()),
            "messaging.kafka.offset": message.offset(), "messaging.consumer.group.name": group_id})


class Rewind(Exception):
    """The batch must be redone from the committed offsets (partitions were revoked while it ran)."""


class TransactionalLoop:
    """The clients and the transaction of one consume-transform-produce process (see the module's words).

    ``what`` names the process in logs; ``liveness`` is the object its /healthz reads; ``aborted_metric`` is a
    Prometheus counter labelled by reason."""

    what = "loop"

    def __init__(self, *, group_id: str, kafka_config: dict, transactional_prefix: str, batch_size: int,
                 poll_timeout: float, transaction_timeout_ms: int, session_timeout_ms: int, liveness: Liveness,
                 aborted_metric):
        self.group_id = group_id
        self.kafka_config = kafka_config
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        # Unique per process: fencing of a crashed predecessor comes from the group generation (KIP-447), not from
        # reusing a transactional id per partition. The process's principal may use ids under its prefix only.
        self.transactional_id = f"{transactional_prefix}{uuid.uuid4().hex}"
        self.transaction_timeout_ms = transaction_timeout_ms
        self.session_timeout_ms = session_timeout_ms
        self.liveness = liveness
        self.aborted_metric = aborted_metric
        self.producer: Producer | None = None
        self.consumer: Consumer | None = None
        self._subscribed: set[str] = set()
        self._in_transaction = False
        self._revoked = False
        self._known_topics: set[str] = set()
        self._topics_checked_at = 0.0

    # ---------------------------------------------------------------------------------------- lifecycle
    def start(self, catch_up_timeout: float = 30.0) -> None:
        raise NotImplementedError  # read the process's table, open_clients(), subscribe()

    def run_once(self, timeout: float | None = None) -> int:
        raise NotImplementedError  # follow the table, then poll_batch() and commit_batch() one batch

    def close(self) -> None:
        raise NotImplementedError  # close_clients() and the table

    def run(self, stop_event, ready_event=None) -> None:
        """Work until stop_event is set; ready_event (if given) is set once the table is loaded."""
        self.start()
        if ready_event is not None:
            ready_event.set()
        self.serve(stop_event)

    def serve(self, stop_event) -> None:
        """Work until stop_event is set, once started; closes the process's clients at the end."""
        try:
            while not stop_event.is_set():
                self.run_once()
        finally:
            self.close()

    # ---------------------------------------------------------------------------------------- clients
    def open_clients(self) -> None:
        # murmur2_random: a keyed output lands on the partition a Java producer of the topic would choose
        # (librdkafka's default, consistent_random, hashes differently), so per-key order holds across both.
        self.producer = Producer({**self.kafka_config, "transactional.id": self.transactional_id,
                                  "transaction.timeout.ms": self.transaction_timeout_ms,
                                  "partitioner": "murmur2_random"})
        self.producer.init_transactions(30)
        self.consumer = Consumer({**self.kafka_config, "group.id": self.group_id, "enable.auto.commit": False,
                                  "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                                  "session.timeout.ms": self.session_timeout_ms})

    def close_clients(self) -> None:
        if self.producer is not None and self._in_transaction:
            self._abort()
        if self.consumer is not None:
            self.consumer.close()  # leaves the group now, so the others rebalance without waiting
        if self.producer is not None:
            self.producer.flush(10)

    def subscribe(self, topics: set[str]) -> None:
        """Consume exactly ``topics`` from now on (between batches: no transaction is open, so the rebalance this
        causes is safe)."""
        if topics == self._subscribed:
            return
        if topics:
            self.consumer.subscribe(sorted(topics), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                    on_lost=self._on_revoke)
        else:
            self.consumer.unsubscribe()
        logger.info("%s subscribed to %s", self.what, sorted(topics))
        self._subscribed = set(topics)

    def _on_assign(self, consumer, partitions):
        self.liveness.assigned(len(partitions))
        logger.info("%s assigned %s", self.what, [(p.topic, p.partition) for p in partitions])

    def _on_revoke(self, consumer, partitions):
        # Only mark: the batch in hand (if any) is aborted and rewound rather than committed.
        self._revoked = True
        self.liveness.assigned(0)  # until the next assignment (consume() calls it right after a revoke)
        logger.info("%s revoked %s", self.what, [(p.topic, p.partition) for p in partitions])

    # ---------------------------------------------------------------------------------------- a batch
    def poll_batch(self, timeout: float) -> list:
        """The next batch of source records; [] when there is none, or when a rebalance ran inside this poll
        (its records are left for a fresh read from the committed offsets)."""
        if not self._subscribed:
            self.liveness.polled()  # nothing to read: the loop still turns
            time.sleep(timeout)
            return []
        self._revoked = False
        messages = self.consumer.consume(num_messages=self.batch_size, timeout=timeout)
        self.liveness.polled()
        batch = []
        for message in messages:
            error = message.error()
            if error is None:
                batch.append(message)
            elif error.fatal():
                raise KafkaException(error)
            else:  # e.g. a source topic that does not exist (yet): nothing to read from it
                logger.warning("%s consumer: %s", self.what, error)
        if batch and self._revoked:
            # Records fetched under the old assignment may sit in the batch while the positions are already
            # reset: handle none of it and start over from the committed offsets.
            logger.info("rebalance during consume: %d records left for a fresh read", len(batch))
            self._rewind(batch)
            return []
        return batch

    def commit_batch(self, batch: list, handle: Callable[[list], None]) -> bool:
        """Run ``handle(batch)`` (which produces) in one transaction with the batch's offsets; True once committed,
        False when the batch was aborted and rewound to be redone."""
        self.producer.begin_transaction()
        self._in_transaction = True
        try:
            handle(batch)
            if self._revoked:
                raise Rewind("partitions were revoked during the batch")
            partitions = {(m.topic(), m.partition()) for m in batch}
            positions = self.consumer.position([TopicPartition(t, p) for t, p in sorted(partitions)])
            self._retrying(lambda: self.producer.send_offsets_to_transaction(
                positions, self.consumer.consumer_group_metadata(), 30))
            self._retrying(lambda: self.producer.commit_transaction(30))
            self._in_transaction = False
            self.liveness.committed()
        except Rewind as exc:
            self.aborted_metric.labels("revoked").inc()
            logger.warning("batch of %d aborted: %s", len(batch), exc)
            self._abort_and_rewind(batch)
            return False
        except PlatformError as exc:
            # The registry is unreachable: not the event's fault, so no dead-lettering; redo the batch later
            # instead (the pause keeps a registry outage from becoming a busy loop).
            self.aborted_metric.labels("registry").inc()
            logger.warning("batch of %d aborted, retrying shortly: %s", len(batch), exc)
            self._abort_and_rewind(batch)
            time.sleep(2)
            return False
        except KafkaException as exc:
            error = exc.args[0]
            if error.fatal():
                raise
            self.aborted_metric.labels("kafka").inc()
            logger.warning("batch of %d aborted: %s", len(batch), error)
            self._abort_and_rewind(batch)
            return False
        except BaseException:
            with contextlib.suppress(KafkaException):
                self._abort()  # a bug: leave nothing half-done behind, then let the bug surface
            raise
        return True

    def produce(self, topic: str, key, value, headers) -> None:
        while True:
            try:
                self.producer.produce(topic, key=key, value=value, headers=headers)
                return
            except BufferError:  # local queue full: let deliveries drain, then retry
                self.producer.poll(0.1)

    def topic_exists(self, topic: str) -> bool:
        # Producing to a missing topic would fail every transaction of the batch, forever (topics are not
        # auto-created): checked up front so only the records bound for it are affected.
        if topic in self._known_topics:
            return True
        if time.monotonic() - self._topics_checked_at > _TOPICS_REFRESH_SECONDS:
            self._known_topics = set(self.producer.list_topics(timeout=10).topics)
            self._topics_checked_at = time.monotonic()
        return topic in self._known_topics

    # ---------------------------------------------------------------------------------------- aborts
    @staticmethod
    def _retrying(call) -> None:
        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                return call()
            except KafkaException as exc:
                error = exc.args[0]
                if not error.retriable() or error.txn_requires_abort() or attempt == _COMMIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _abort(self) -> None:
        try:
            self.producer.abort_transaction(30)
        finally:
            self._in_transaction = False

    def _abort_and_rewind(self, batch) -> None:
        self.liveness.aborted()
        self._abort()
        self._rewind(batch)

    def _rewind(self, batch) -> None:
        """Seek the batch's partitions back to their committed offsets. A failing seek raises: carrying on past an
        aborted batch would lose it, while a restart resumes from the committed offsets."""
        first: dict[tuple[str, int], int] = {}
        for m in batch:
            first.setdefault((m.topic(), m.partition()), m.offset())
        partitions = [TopicPartition(t, p) for t, p in sorted(first)]
        try:
            committed = {(tp.topic, tp.partition): tp.offset for tp in self.consumer.committed(partitions, 30)}
        except KafkaException as exc:
            logger.warning("committed offsets unavailable (%s); rewinding to the batch start", exc)
            committed = {}
        assigned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        for (topic, partition), offset in first.items():
            if (topic, partition) not in assigned:
                continue  # someone else owns it now and starts from the committed offset anyway
            target = committed.get((topic, partition), -1)
            if target < 0:  # nothing committed yet: the batch's first record is where we started
                target = offset
            self.consumer.seek(TopicPartition(topic, partition, target))
