"""The gateway's side of Kafka: one shared producer per process whose delivery reports complete asyncio futures.

The HTTP event loop must never wait on librdkafka, so producing only enqueues and a daemon thread polls the
producer. Two ways in:

* ``produce()`` (on the loop): one record, one future; each delivery callback hands its outcome back to the loop
  with ``call_soon_threadsafe``. Fine for a record at a time; per record, the future, the callback's trip into
  the loop and the task awaiting it cost far more than producing does.
* ``enqueue(batch, …)`` (from any thread, typically the worker thread that also encoded the records): the
  callbacks only write each outcome into the PendingBatch's list, and the loop is woken ONCE, when the batch's
  last record is settled. This is what batches and streams use.
Topic metadata (does it exist, how many partitions) is cached briefly, because producing to a topic that does
not exist would only fail after ``message.timeout.ms`` (topics are not auto-created on this platform).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Producer

logger = logging.getLogger(__name__)
_TOPIC_TTL = 10.0  # seconds a topic's partition count is trusted; a missing topic is asked again each time

# Idempotence with acks=all: no duplicates nor reordering on the producer's own retries. murmur2_random hashes
# keys as Java clients do (librdkafka's default, consistent_random, does not), so a key lands on the partition
# where every other producer of the topic puts it. linger.ms is small: batches form under load, and a lone
# request waits at most that long. A delivery must fail within a request's lifetime, not librdkafka's 300 s.
PRODUCER_DEFAULTS = {
    "enable.idempotence": True,
    "acks": "all",
    "partitioner": "murmur2_random",
    "linger.ms": 5,
    "message.timeout.ms": 30000,
}


QUEUE_WAIT_SECONDS = 1.0  # how long enqueue() waits for room in a full local queue before giving up (-> 429)


@dataclass(frozen=True)
class Delivery:
    """Where the broker put one record."""

    partition: int
    offset: int
    timestamp_ms: int | None


class DeliveryFailed(Exception):
    """The broker (or librdkafka) refused or lost the record; ``retriable`` says if sending it again may help."""

    def __init__(self, error: KafkaError):
        super().__init__(error.str())
        self.code = error.code()
        self.retriable = error.retriable()


class QueueFull(Exception):
    """The producer's local queue stayed full for QUEUE_WAIT_SECONDS: the caller answers 429 / RESOURCE_EXHAUSTED."""


class PendingBatch:
    """The delivery outcomes of records enqueued together, and one future for all of them.

    ``outcomes[i]`` is the i-th enqueued record's Delivery or DeliveryFailed once settled. ``done`` completes on
    the event loop when every enqueued record is settled AND ``seal()`` was called: the seal stops it completing
    while records are still being added (an early record may be acknowledged before the last is enqueued).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.outcomes: list[Delivery | DeliveryFailed | None] = []
        self.done: asyncio.Future = loop.create_future()
        self._unsettled = 1  # the seal
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.outcomes)

    def _slot(self) -> int:
        with self._lock:
            self._unsettled += 1
        self.outcomes.append(None)
        return len(self.outcomes) - 1

    def _unslot(self) -> None:
        """The last slot's record was not enqueued after all."""
        self.outcomes.pop()
        self._release()

    def _settle(self, index: int, error, message) -> None:  # the producer's delivery callback (polling thread)
        self.outcomes[index] = (DeliveryFailed(error) if error is not None else
                                Delivery(message.partition(), message.offset(), message_timestamp(message)))
        self._release()

    def seal(self) -> None:
        """No more records: ``done`` completes once those enqueued are settled (at once if there are none)."""
        self._release()

    def _release(self) -> None:
        with self._lock:
            self._unsettled -= 1
            last = self._unsettled == 0
        if last:
            try:
                self.loop.call_soon_threadsafe(_resolve, self.done)
            except RuntimeError:  # the loop is gone (shutdown): nobody waits for this batch any more
                pass


class DeliveryProducer:
    """The process's producer: ``produce()`` returns an asyncio future of the record's Delivery."""

    def __init__(self, *, kafka_config: dict, overrides: dict | None = None):
        self.kafka_config = kafka_config  # for the transactional producers of atomic batches (transactions.py)
        self._producer = Producer({**kafka_config, **PRODUCER_DEFAULTS, **(overrides or {})})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="gateway-deliveries", daemon=True)
        self._topics: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self.cluster_id: str = ""

    def start(self, *, timeout: float = 30.0) -> None:
        # One metadata request proves the connection and names the cluster for /v3/clusters.
        metadata = self._producer.list_topics(timeout=timeout)
        self.cluster_id = metadata.cluster_id or ""
        self._thread.start()

    def close(self, *, timeout: float = 30.0) -> int:
        """Deliver what is queued (a SIGTERM must not lose accepted records); returns how many were not."""
        remaining = self._producer.flush(timeout)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if remaining:
            logger.error("gateway producer closed with %d records undelivered", remaining)
        return remaining

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.1)

    # ------------------------------------------------------------------------------------------- producing
    def produce(self, *, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]],
                partition: int | None = None, timestamp_ms: int | None = None) -> asyncio.Future:
        """Enqueue one record; raises BufferError when the local queue is full (the caller answers 429)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def delivered(error, message) -> None:  # runs in the polling thread
            outcome = (DeliveryFailed(error) if error is not None else
                       Delivery(message.partition(), message.offset(), message_timestamp(message)))
            try:
                loop.call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:  # the loop is gone (its request was abandoned at shutdown): nobody waits
                pass

        arguments = {"key": key, "value": value, "headers": headers, "on_delivery": delivered}
        if partition is not None:
            arguments["partition"] = partition
        if timestamp_ms is not None:
            arguments["timestamp"] = timestamp_ms
        self._producer.produce(topic, **arguments)
        return future

    def enqueue(self, batch: PendingBatch, *, topic: str, key: bytes | None, value: bytes | None,
                headers: list[tuple[str, bytes]], partition: int | None = None,
                timestamp_ms: int | None = None) -> int:
        """Enqueue one record into ``batch`` (from any thread); returns its index in ``batch.outcomes``.

        A full local queue is waited on for up to QUEUE_WAIT_SECONDS (the polling thread drains it as the broker
        acknowledges), so a burst slows its sender down instead of failing; then QueueFull. librdkafka's own
        checks (a record over message.max.bytes...) raise as they do in ``produce()``.
        """
        index = batch._slot()
        arguments = {"key": key, "value": value, "headers": headers,
                     "on_delivery": functools.partial(batch._settle, index)}
        if partition is not None:
            arguments["partition"] = partition
        if timestamp_ms is not None:
            arguments["timestamp"] = timestamp_ms
        deadline = None
        while True:
            try:
                self._producer.produce(topic, **arguments)
                return index
            except BufferError:
                now = time.monotonic()
                deadline = deadline or now + QUEUE_WAIT_SECONDS
                if now >= deadline:
                    batch._unslot()
                    raise QueueFull() from None
                time.sleep(0.005)
            except BaseException:
                batch._unslot()
                raise

    # -------------------------------------------------------------------------------------------- metadata
    def partitions(self, topic: str, *, timeout: float = 5.0) -> int | None:
        """How many partitions ``topic`` has, or None when it does not exist (blocking: call it in a thread)."""
        now = time.monotonic()
        with self._lock:
            known = self._topics.get(topic)
        if known is not None and now - known[1] < _TOPIC_TTL:
            return known[0]
        try:
            metadata = self._producer.list_topics(topic, timeout=timeout)
        except KafkaException as exc:
            raise DeliveryFailed(exc.args[0]) from None
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            with self._lock:
                self._topics.pop(topic, None)
            return None
        with self._lock:
            self._topics[topic] = (len(found.partitions), now)
        return len(found.partitions)


def _settle(future: asyncio.Future, outcome: Delivery | DeliveryFailed) -> None:
    if future.done():  # the request was cancelled (client gone): the record is produced all the same
        return
    if isinstance(outcome, DeliveryFailed):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def message_timestamp(message) -> int | None:
    kind, value = message.timestamp()
    return value if kind != 0 else None  # 0: TIMESTAMP_NOT_AVAILABLE
