"""Atomic batches: a ``records:batch`` with ``"atomic": true`` is produced as one Kafka transaction.

A transactional producer runs one transaction at a time, so the gateway keeps a small pool of them, made on first
use (``init_transactions`` costs a round trip to the transaction coordinator). Everything here blocks, so it runs
in a worker thread, never on the event loop.

Transactional ids are ``<GATEWAY_TRANSACTIONAL_ID_PREFIX><host>-<pid>-<slot>``: unique per process, so two
replicas (or a replica and its own restart) never fence each other. The price is that a transaction left open by
a process that died is only aborted by the coordinator after ``transaction.timeout.ms``, which is kept short for
that reason: until then read_committed consumers of those partitions wait.

Consumers see an atomic batch all at once, or not at all, only with ``isolation.level=read_committed``
(confluent-kafka's default; Java clients must set it).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from dataclasses import dataclass

from confluent_kafka import KafkaException, Producer

from onboarding.gateway.server import PRODUCER_DEFAULTS, Delivery, DeliveryFailed, message_timestamp

logger = logging.getLogger(__name__)

TRANSACTION_TIMEOUT_MS = 30000  # at least message.timeout.ms, as librdkafka requires
ACQUIRE_SECONDS = 5.0  # how long a batch waits for a free transactional producer before the answer is 429
COMMIT_SECONDS = 30.0


class TransactionsBusy(Exception):
    """Every transactional producer stayed busy: the caller answers 429 with Retry-After."""


class TransactionFailed(Exception):
    """The transaction was aborted (or its outcome is unknown and it was aborted); nothing of it is visible to
    read_committed consumers. ``retriable``: sending the same batch again may succeed."""

    def __init__(self, message: str, *, retriable: bool):
        super().__init__(message)
        self.retriable = retriable


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: list
    partition: int | None
    timestamp_ms: int | None


class TransactionalProducers:
    """A pool of ``size`` transactional producers; ``produce_atomically`` is all the callers need."""

    def __init__(self, *, kafka_config: dict, prefix: str, size: int = 2):
        self._config = {**kafka_config, **PRODUCER_DEFAULTS, "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS}
        self._prefix = f"{prefix}{socket.gethostname()}-{os.getpid()}-"
        self._idle: queue.Queue = queue.Queue()
        self._made = 0
        self._size = size
        self._lock = threading.Lock()
        self._all: list[Producer] = []

    def produce_atomically(self, topic: str, records: list[Record]) -> list[Delivery]:
        """Produce ``records`` to ``topic`` in one transaction and commit it; each record's Delivery, in order.

        Raises TransactionsBusy (no producer free in time) or TransactionFailed (aborted: nothing is visible).
        """
        producer = self._acquire()
        healthy = True
        try:
            return self._run(producer, topic, records)
        except TransactionFailed as exc:
            healthy = exc.retriable  # a fatal error (fenced...) leaves the producer unusable
            raise
        finally:
            self._release(producer, healthy=healthy)

    def close(self) -> None:
        with self._lock:
            producers, self._all = self._all, []
        for producer in producers:
            producer.flush(5)

    # --------------------------------------------------------------------------------------------- the pool
    def _acquire(self) -> Producer:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            make = self._made < self._size
            if make:
                self._made += 1
        if make:
            return self._new(self._made - 1)
        try:
            return self._idle.get(timeout=ACQUIRE_SECONDS)
        except queue.Empty:
            raise TransactionsBusy() from None

    def _new(self, slot: int) -> Producer:
        producer = Producer({**self._config, "transactional.id": f"{self._prefix}{slot}"})
        try:
            producer.init_transactions(30)
        except KafkaException as exc:
            with self._lock:
                self._made -= 1
            raise TransactionFailed(f"the transaction coordinator is unavailable: {exc.args[0].str()}",
                                    retriable=True) from None
        with self._lock:
            self._all.append(producer)
        return producer

    def _release(self, producer: Producer, *, healthy: bool) -> None:
        if healthy:
            self._idle.put(producer)
            return
        with self._lock:  # a fenced or fatally failed producer is replaced by a new one on demand
            self._made -= 1
            if producer in self._all:
                self._all.remove(producer)

    # -------------------------------------------------------------------------------------- a transaction
    def _run(self, producer: Producer, topic: str, records: list[Record]) -> list[Delivery]:
        outcomes: list[Delivery | DeliveryFailed | None] = [None] * len(records)

        def settle(index: int, error, message) -> None:
            outcomes[index] = (DeliveryFailed(error) if error is not None else
                               Delivery(message.partition(), message.offset(), message_timestamp(message)))

        try:
            producer.begin_transaction()
            for index, record in enumerate(records):
                arguments = {"key": record.key, "value": record.value, "headers": record.headers,
                             "on_delivery": lambda error, message, index=index: settle(index, error, message)}
                if record.partition is not None:
                    arguments["partition"] = record.partition
                if record.timestamp_ms is not None:
                    arguments["timestamp"] = record.timestamp_ms
                _produce_waiting(producer, topic, arguments)
            producer.commit_transaction(COMMIT_SECONDS)  # flushes: every delivery callback has run after it
        except (KafkaException, BufferError) as exc:
            error = exc.args[0] if exc.args and hasattr(exc.args[0], "str") else None
            self._abort(producer, error)
            fatal = error is not None and error.fatal()
            reason = error.str() if error is not None else "the producer's queue stayed full"
            raise TransactionFailed(f"the transaction was aborted: {reason}", retriable=not fatal) from None
        failed = [outcome for outcome in outcomes if not isinstance(outcome, Delivery)]
        if failed:  # cannot happen after a successful commit, but a report must never claim an unknown offset
            raise TransactionFailed("the transaction committed without a delivery report for every record",
                                    retriable=False)
        return outcomes

    @staticmethod
    def _abort(producer: Producer, error) -> None:
        if error is not None and error.fatal():
            return
        try:
            producer.abort_transaction(COMMIT_SECONDS)
        except KafkaException as exc:
            logger.warning("gateway: aborting a transaction failed too: %s", exc.args[0].str())


def _produce_waiting(producer: Producer, topic: str, arguments: dict) -> None:
    """produce(), serving delivery callbacks while the local queue is full (a batch can outgrow it)."""
    for _ in range(200):
        try:
            producer.produce(topic, **arguments)
            return
        except BufferError:
            producer.poll(0.05)
    raise BufferError("the producer's local queue stayed full")
