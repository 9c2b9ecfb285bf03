"""One authorised produce request (``ProduceTarget``): its records encoded, enqueued and answered with Confluent
delivery reports, one at a time or as one Kafka transaction, and how each failure is reported."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from onboarding.gateway import metrics
from onboarding.gateway.http import Refusal, admit_records, authenticate, authorise, check_cluster
from onboarding.gateway.record_error import INVALID_PAYLOAD, RecordError
from onboarding.gateway.records import encode_record
from onboarding.gateway.server import Delivery, DeliveryFailed, PendingBatch, QueueFull
from onboarding.gateway.state import Gateway
from onboarding.gateway.transactions import Record as TransactionRecord
from onboarding.gateway.transactions import TransactionalProducers, TransactionFailed, TransactionsBusy
from onboarding.platform.errors import PlatformError
from portal.observability import tracing

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "1"
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


# ---------------------------------------------------------------------------------------------- produce
class ProduceTarget:
    """One authorised produce request: where records go, and how each becomes a delivery report.

    Records are encoded AND enqueued in a worker thread (encoding may ask the registry, and one trip per batch
    costs less than the loop's share of a record), in order, into one PendingBatch: the event loop is woken once
    per batch, when the broker has acknowledged all of it, and then writes the reports.
    """

    def __init__(self, request: Request, *, partitions: int, key_id: str):
        self.gateway: Gateway = request.app.state.gateway
        self.cluster_id = request.path_params["cluster_id"]
        self.topic = request.path_params["topic"]
        self.partitions = partitions
        self.grant = request.state.grant
        self.key_id = key_id  # the token's, which scopes its Idempotency-Keys
        self.trace_headers = _trace_headers(request, self.topic)
        self.loop = asyncio.get_running_loop()

    def new_batch(self) -> ReportBatch:
        return ReportBatch(self.loop)

    async def produce(self, bodies: list[object]) -> list[dict]:
        """The report of each record of ``bodies`` (decoded JSON, or a RecordError from parsing), in order."""
        batch = self.new_batch()
        slots = await run_in_threadpool(self.enqueue_all, bodies, batch)
        batch.seal()
        await batch.done
        return self.reports(slots, batch)

    def enqueue_all(self, bodies: list[object], batch: PendingBatch, *, after_full: bool = False) -> list:
        """Encode and enqueue each record into ``batch`` (in a worker thread); each record's slot is its index in
        the batch or the Refusal answering it. Once the queue stayed full, later records are refused too, so
        none overtakes a refused one."""
        slots, full = [], after_full
        for body in bodies:
            if full:
                slots.append(queue_full())
                continue
            slot = self.enqueue(body, batch)
            full = isinstance(slot, Refusal) and slot.error_code == QUEUE_FULL_CODE
            slots.append(slot)
        return slots

    def enqueue(self, body: object, batch: PendingBatch) -> int | Refusal:
        if isinstance(body, RecordError):
            return failure(body)
        try:
            record = encode_record(body, topic=self.topic, schemas=self.gateway.schemas,
                                   validate=self.gateway.validate)
            self._check_partition(record.partition)
            index = self.gateway.producer.enqueue(
                batch, topic=self.topic, key=record.key, value=record.value, headers=self._headers(record),
                partition=record.partition, timestamp_ms=record.timestamp_ms)
        except Refusal as exc:
            return exc
        except QueueFull:
            return queue_full()
        except Exception as exc:  # noqa: BLE001 - one record's failure is that record's report, never a 500
            return failure(exc)
        batch.records.append(record)  # the report names the record's types and sizes
        return index

    def produce_atomically(self, bodies: list[object]) -> list:
        """All of ``bodies`` in one transaction, or none (in a worker thread); the slots hold each record's
        Delivery. An invalid record refuses the whole batch with every entry's problems, as gRPC Publish does."""
        records, errors = [], {}
        for index, body in enumerate(bodies):
            try:
                record = encode_record(body, topic=self.topic, schemas=self.gateway.schemas,
                                       validate=self.gateway.validate)
                self._check_partition(record.partition)
                records.append(record)
            except RecordError as exc:
                errors.update({f"entries[{index}].{path}": messages for path, messages in exc.errors.items()})
            except Refusal as exc:
                errors.update({f"entries[{index}].{path}": messages for path, messages in (exc.errors or {}).items()})
        if errors:
            raise Refusal(422, INVALID_PAYLOAD, f"An atomic batch is produced whole or not at all; "
                          f"{len(bodies) - len(records)} of {len(bodies)} entries cannot be produced, so none was.",
                          errors=errors)
        try:
            deliveries = _transactions(self.gateway).produce_atomically(self.topic, [
                TransactionRecord(record.key, record.value, self._headers(record), record.partition,
                                  record.timestamp_ms) for record in records])
        except TransactionsBusy:
            raise Refusal(429, QUEUE_FULL_CODE, "Every transactional producer of the gateway is busy; retry shortly.",
                          headers={"Retry-After": RETRY_AFTER_SECONDS}) from None
        except TransactionFailed as exc:
            if exc.retriable:
                raise Refusal(503, 50301, f"The batch was not produced ({exc}); retry it.",
                              headers={"Retry-After": RETRY_AFTER_SECONDS}) from None
            raise Refusal(500, 50002, f"The batch was not produced: {exc}") from None
        return [_Produced(delivery, record) for delivery, record in zip(deliveries, records, strict=True)]

    def _headers(self, record) -> list:
        if not self.trace_headers:
            return record.headers
        names = {name for name, _ in record.headers}
        return [*record.headers, *((name, value) for name, value in self.trace_headers if name not in names)]

    def admit(self, n: int) -> Refusal | None:
        """The token's records rate limit for ``n`` more records: None, or the 429 answering them."""
        return admit_records(self.gateway, self.grant, self.topic, n)

    def reports(self, slots: list, batch: PendingBatch) -> list[dict]:
        reports = self._reports(slots, batch)
        outcomes = Counter(metrics.outcome_of(report["error_code"]) for report in reports)
        outcomes.pop("rate_limited", None)  # counted when refused (admit)
        for outcome, n in outcomes.items():
            metrics.produced(self.topic, outcome, n)
        return reports

    def _reports(self, slots: list, batch: PendingBatch) -> list[dict]:
        return [self._report(slot.delivery, slot.record) if isinstance(slot, _Produced) else
                slot.body() if isinstance(slot, Refusal) else self._report(batch.outcomes[slot], batch.records[slot])
                for slot in slots]

    def _check_partition(self, partition: int | None) -> None:
        if partition is not None and not 0 <= partition < self.partitions:
            raise Refusal(404, 40402, f"Partition {partition} of topic {self.topic} cannot be found.",
                          errors={"partition_id": [f"the topic has partitions 0 to {self.partitions - 1}"]})

    def _report(self, outcome, record) -> dict:
        if isinstance(outcome, DeliveryFailed):
            return failure(outcome).body()
        return {"error_code": 200, "cluster_id": self.cluster_id, "topic_name": self.topic,
                "partition_id": outcome.partition, "offset": outcome.offset, "timestamp": _iso(outcome.timestamp_ms),
                "key": _part(record.key_type, record.key_size, record.key),
                "value": _part(record.value_type, record.value_size, record.value)}


_MAKING = threading.Lock()


def _transactions(gateway: Gateway) -> TransactionalProducers:
    """The gateway's pool of transactional producers, made on the first atomic batch."""
    with _MAKING:
        if gateway.transactions is None:
            gateway.transactions = TransactionalProducers(
                kafka_config=gateway.producer.kafka_config,
                prefix=getattr(settings, "GATEWAY_TRANSACTIONAL_ID_PREFIX", "portal-gateway-"))
        return gateway.transactions


@dataclass(frozen=True)
class _Produced:
    """A record of an atomic batch, delivered (its transaction is committed)."""

    delivery: Delivery
    record: object


class ReportBatch(PendingBatch):
    """A PendingBatch that keeps each enqueued record, whose types and sizes its report gives."""

    def __init__(self, loop):
        super().__init__(loop)
        self.records: list = []


QUEUE_FULL_CODE = 42901


def queue_full() -> Refusal:
    return Refusal(429, QUEUE_FULL_CODE, "The gateway's producer queue is full; retry shortly.",
                   headers={"Retry-After": RETRY_AFTER_SECONDS})


def failure(exc: Exception) -> Refusal:
    """The report of a record that could not be produced, by what went wrong."""
    if isinstance(exc, RecordError):
        return Refusal(http_status(exc.code), exc.code, "The record cannot be produced: " + str(exc), errors=exc.errors)
    if isinstance(exc, PlatformError):  # the schema registry: not the record's fault
        return Refusal(503, 50301, f"The schema registry is unavailable: {exc}")
    if isinstance(exc, DeliveryFailed):
        if exc.retriable:
            return Refusal(503, 50301, f"Kafka did not accept the record in time: {exc}")
        return Refusal(400, 40002, f"Kafka refused the record: {exc}")
    if isinstance(exc, (ValueError, TypeError)) or type(exc).__name__ == "KafkaException":
        # librdkafka checks some things itself at produce() time (e.g. a record over message.max.bytes).
        return Refusal(400, 40002, f"Kafka refused the record: {exc}")
    logger.exception("gateway: unexpected failure producing a record")
    return Refusal(500, 50001, "Internal error while producing the record.")


def http_status(error_code: int) -> int:
    """The HTTP status of a Confluent error code: its first three digits (40101 -> 401; 400 is itself)."""
    return error_code if error_code < 1000 else error_code // 100


def _part(kind: str | None, size: int, data: bytes | None) -> dict | None:
    return None if data is None else {"type": kind, "size": size}


def _iso(timestamp_ms: int | None) -> str | None:
    if timestamp_ms is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp_ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _trace_headers(request: Request, topic: str) -> list[tuple[str, bytes]]:
    """The W3C trace context for the records' headers, so the consumers and the router join the caller's trace.

    Without tracing in this process the caller's ``traceparent`` is passed through as it is (when well formed);
    with it, a PRODUCER span of the gateway sits between the request's SERVER span (server_span.py, itself a
    child of the caller's) and the records. Without a current span (an app not behind that middleware) the
    PRODUCER span continues the caller's context itself.
    """
    incoming = {}
    traceparent = request.headers.get("traceparent", "").strip()
    if _TRACEPARENT.fullmatch(traceparent):
        incoming["traceparent"] = traceparent
        if request.headers.get("tracestate"):
            incoming["tracestate"] = request.headers["tracestate"][:512]
    if not tracing.enabled():
        return [(name, value.encode("ascii", errors="replace")) for name, value in incoming.items()]
    parent = None if trace.get_current_span().get_span_context().is_valid else propagate.extract(incoming)
    with tracing.tracer.start_as_current_span(f"{topic} publish", context=parent,
                                              kind=SpanKind.PRODUCER, attributes={
                                                  "messaging.system": "kafka",
                                                  "messaging.destination.name": topic}):
        return [(name, value.encode("ascii", errors="replace") if isinstance(value, str) else value)
                for name, value in tracing.headers_with_context([])]


async def authorised_target(request: Request) -> ProduceTarget:
    """401, 404 cluster, 403, 404 topic, in that order: who may not publish here learns nothing of the topic."""
    grant = authenticate(request)
    check_cluster(request, request.path_params["cluster_id"])
    topic = request.path_params["topic"]
    authorise(request, grant, "produce", topic)
    try:
        partitions = await run_in_threadpool(request.app.state.gateway.producer.partitions, topic)
    except DeliveryFailed as exc:
        raise Refusal(503, 50301, f"Kafka metadata is unavailable: {exc}") from None
    if partitions is None:
        raise Refusal(404, 40403, f"Topic {topic} cannot be found.")
    return ProduceTarget(request, partitions=partitions, key_id=grant.key_id)

