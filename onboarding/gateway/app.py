"""The gateway's REST produce API, compatible with Confluent REST Proxy v3 (an ASGI app built with Starlette).

* ``GET /v3/clusters``, ``GET /v3/clusters/{cluster_id}``: the one Kafka cluster, so v3 clients can find its id;
* ``POST /v3/clusters/{cluster_id}/topics/{topic}/records``: one record and its delivery report, or a stream of
  records (chunked, concatenated JSON) answered with one report per record, in order, one JSON object a line;
* ``POST …/records:batch``: ``{"entries": [{"id", …record}]}`` answered 207 with successes and failures by id;
* ``GET …/topics/{topic}/events``, ``POST …/events:commit``, ``GET …/events:stream`` (Server-Sent Events):
  stateless consume by signed cursor (consume_routes.py, consume.py).

Every answer that is not a delivery report is Confluent's ``{"error_code", "message"}``; payload problems add
``errors``, a map from each field's path to what is wrong there, where Confluent gives one message.
Authorisation is the grants table (``Authorization: Bearer pep_<key id>_<secret>``); the gateway never reads
Postgres.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from anyio import from_thread
from django.conf import settings
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onboarding.gateway import consume, consume_routes, idempotency, metrics, openapi
from onboarding.gateway.audit import Auditor
from onboarding.gateway.grants import GrantsTable
from onboarding.gateway.http import Refusal, admit_records, authenticate, authorise, check_cluster, json_body, read_body
from onboarding.gateway.ratelimit import RateLimiter
from onboarding.gateway.record_error import INVALID_PAYLOAD, RecordError
from onboarding.gateway.records import encode_record
from onboarding.gateway.server import Delivery, DeliveryFailed, DeliveryProducer, PendingBatch, QueueFull
from onboarding.gateway.stream import iter_records
from onboarding.gateway.transactions import Record as TransactionRecord
from onboarding.gateway.transactions import TransactionalProducers, TransactionFailed, TransactionsBusy
from onboarding.platform.errors import PlatformError
from portal.observability import tracing
from portal.request_id import well_formed

logger = logging.getLogger(__name__)
access_log = logging.getLogger("onboarding.gateway.access")

MAX_RECORD_BYTES = 1024 * 1024  # one record of a stream (Kafka's default max.message.bytes is about this)
MAX_BATCH_ENTRIES = 1000
MAX_IN_FLIGHT = 1000  # records of one stream produced but not yet reported: reading pauses beyond this
RETRY_AFTER_SECONDS = "1"
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


# ------------------------------------------------------------------------------------------------ the app
@dataclass
class Gateway:
    """What the routes share: the grants (followed by table.GrantsReader), the producer, the schema cache."""

    grants: GrantsTable
    producer: DeliveryProducer
    schemas: object  # writer_schemas.RegistrySchemas (or anything encode_record accepts)
    validate: bool = True
    transactions: TransactionalProducers | None = None  # atomic batches; by default made from the producer's config
    idempotency: idempotency.IdempotencyStore | None = None  # Idempotency-Key answers; by default from settings
    limiter: RateLimiter = field(default_factory=RateLimiter.from_settings)  # per token, in this replica
    auditor: Auditor | None = None  # denials: by default through ``producer`` to GATEWAY_AUDIT_TOPIC

    def __post_init__(self):
        if self.auditor is None:
            self.auditor = Auditor(self.producer)


def create_app(*, gateway: Gateway, events: consume.EventReader | None = None):
    """The ASGI app: Starlette's routes behind the request-id middleware (``events``: the consume side, by
    default from settings)."""
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/metrics", metrics.serve, methods=["GET"]),
        Route("/openapi.json", openapi.serve, methods=["GET"]),
        Route("/docs", openapi.page, methods=["GET"]),
        Route("/v3/clusters", _clusters, methods=["GET"]),
        Route("/v3/clusters/{cluster_id}", _cluster, methods=["GET"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/records", _produce, methods=["POST"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/records:batch", _produce_batch, methods=["POST"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/events", consume_routes.read_events, methods=["GET"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/events:commit", consume_routes.commit_cursor, methods=["POST"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/events:stream", consume_routes.stream_events, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={Refusal: _refused, 404: _not_found, 405: _not_allowed})
    app.state.gateway = gateway
    app.state.events = events or consume.EventReader.from_settings()
    return RequestIdMiddleware(app)


async def _healthz(request: Request) -> Response:
    """Liveness for probes and process supervisors: the process answers and knows how many grants it holds."""
    return JSONResponse({"status": "ok", "grants": len(request.app.state.gateway.grants)})


async def _refused(request: Request, exc: Exception) -> Response:
    return exc.response()


async def _not_found(request: Request, exc: Exception) -> Response:
    return Refusal(404, 404, f"No such endpoint: {request.method} {request.url.path}").response()


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return Refusal(405, 405, f"Method {request.method} not allowed here").response()


class RequestIdMiddleware:
    """Answers ``X-Request-ID`` (the caller's when well formed, as the portal's rule says, else a new one) and
    writes the access log line with it. Plain ASGI, so a streamed answer is not buffered."""

    def __init__(self, app):
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if well_formed(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started, status, sizes = time.monotonic(), [0], [0, 0]

        async def receive_counted():
            message = await receive()
            sizes[0] += len(message.get("body", b""))
            return message

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            sizes[1] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_counted, send_with_id)
        finally:
            metrics.observe_rest(route=metrics.route_of(scope), method=scope["method"], status=status[0],
                                 seconds=time.monotonic() - started, received=sizes[0], sent=sizes[1])
            access_log.info("%s %s %s", scope["method"], scope["path"], status[0], extra={
                "method": scope["method"], "path": scope["path"], "status": status[0], "request_id": request_id,
                "duration_ms": round((time.monotonic() - started) * 1000, 1)})


# --------------------------------------------------------------------------------------------- clusters
def _cluster_body(request: Request, cluster_id: str) -> dict:
    base = f"{str(request.base_url).rstrip('/')}/v3/clusters/{cluster_id}"
    return {"kind": "KafkaCluster", "metadata": {"self": base, "resource_name": f"crn:///kafka={cluster_id}"},
            "cluster_id": cluster_id, "topics": {"related": f"{base}/topics"}}


async def _clusters(request: Request) -> Response:
    authenticate(request)
    cluster_id = request.app.state.gateway.producer.cluster_id
    return JSONResponse({"kind": "KafkaClusterList", "metadata": {"self": str(request.url), "next": None},
                         "data": [_cluster_body(request, cluster_id)]})


async def _cluster(request: Request) -> Response:
    authenticate(request)
    check_cluster(request, request.path_params["cluster_id"])
    return JSONResponse(_cluster_body(request, request.path_params["cluster_id"]))


# ---------------------------------------------------------------------------------------------- produce
class _Target:
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

    def new_batch(self) -> _Batch:
        return _Batch(self.loop)

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
                slots.append(_queue_full())
                continue
            slot = self.enqueue(body, batch)
            full = isinstance(slot, Refusal) and slot.error_code == QUEUE_FULL_CODE
            slots.append(slot)
        return slots

    def enqueue(self, body: object, batch: PendingBatch) -> int | Refusal:
        if isinstance(body, RecordError):
            return _failure(body)
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
            return _queue_full()
        except Exception as exc:  # noqa: BLE001 - one record's failure is that record's report, never a 500
            return _failure(exc)
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
            return _failure(outcome).body()
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


class _Batch(PendingBatch):
    """A PendingBatch that keeps each enqueued record, whose types and sizes its report gives."""

    def __init__(self, loop):
        super().__init__(loop)
        self.records: list = []


QUEUE_FULL_CODE = 42901


def _queue_full() -> Refusal:
    return Refusal(429, QUEUE_FULL_CODE, "The gateway's producer queue is full; retry shortly.",
                   headers={"Retry-After": RETRY_AFTER_SECONDS})


def _failure(exc: Exception) -> Refusal:
    """The report of a record that could not be produced, by what went wrong."""
    if isinstance(exc, RecordError):
        return Refusal(_status(exc.code), exc.code, "The record cannot be produced: " + str(exc), errors=exc.errors)
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


def _status(error_code: int) -> int:
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
    with it, a PRODUCER span of the gateway sits between the caller and the records.
    """
    incoming = {}
    traceparent = request.headers.get("traceparent", "").strip()
    if _TRACEPARENT.fullmatch(traceparent):
        incoming["traceparent"] = traceparent
        if request.headers.get("tracestate"):
            incoming["tracestate"] = request.headers["tracestate"][:512]
    if not tracing.enabled():
        return [(name, value.encode("ascii", errors="replace")) for name, value in incoming.items()]
    with tracing.tracer.start_as_current_span(f"{topic} publish", context=propagate.extract(incoming),
                                              kind=SpanKind.PRODUCER, attributes={
                                                  "messaging.system": "kafka",
                                                  "messaging.destination.name": topic}):
        return [(name, value.encode("ascii", errors="replace") if isinstance(value, str) else value)
                for name, value in tracing.headers_with_context([])]


async def _authorised_target(request: Request) -> _Target:
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
    return _Target(request, partitions=partitions, key_id=grant.key_id)


async def _produce(request: Request) -> Response:
    target = await _authorised_target(request)
    if "content-length" not in request.headers:
        if idempotency.HEADER in request.headers:
            raise Refusal(400, 40003, f"{idempotency.HEADER} is for whole requests; a stream's records are "
                          "answered as they are produced, so send a batch to retry safely.",
                          errors={idempotency.HEADER: ["not allowed on a streamed (chunked) request"]})
        return _ReportStream(_streamed_reports(target, request.stream()))
    # A whole body: one record is answered as one report (its status is the report's); several, one a line.
    body = await read_body(request)
    return await _once(request, target, body, lambda: _produce_whole(target, body))


async def _produce_whole(target: _Target, body: bytes) -> Response:
    batch = target.new_batch()

    def parse_and_enqueue():
        items = list(iter_records([body]))
        if refused := target.admit(len(items)):
            raise refused
        return len(items), target.enqueue_all(items, batch)

    try:
        count, slots = await run_in_threadpool(parse_and_enqueue)
    finally:
        batch.seal()
    if count == 0:
        raise Refusal(400, 400, "The request body holds no record.", errors={"$": ["no JSON object found"]})
    await batch.done
    reports = target.reports(slots, batch)
    if count == 1:
        status = _status(reports[0]["error_code"])
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 429 else None
        return JSONResponse(reports[0], status_code=status, headers=headers)
    return Response("".join(_line(report) for report in reports), media_type="application/json")


async def _produce_batch(request: Request) -> Response:
    target = await _authorised_target(request)
    body = await read_body(request)
    return await _once(request, target, body, lambda: _produce_entries(target, body))


async def _produce_entries(target: _Target, body: bytes) -> Response:
    batch = target.new_batch()

    def parse_and_enqueue():
        document = json_body(body)
        entries = _batch_entries(document)
        records = [{name: value for name, value in entry.items() if name != "id"} for entry in entries]
        if refused := target.admit(len(records)):
            raise refused
        ids = [entry["id"] for entry in entries]
        if _atomic(document):
            return ids, target.produce_atomically(records)
        return ids, target.enqueue_all(records, batch)

    try:
        ids, slots = await run_in_threadpool(parse_and_enqueue)
    finally:
        batch.seal()
    await batch.done  # enqueued in order; the acknowledgements are awaited together
    successes, failures = [], []
    for entry_id, report in zip(ids, target.reports(slots, batch), strict=True):
        (successes if report["error_code"] == 200 else failures).append({"id": entry_id, **report})
    return JSONResponse({"successes": successes, "failures": failures}, status_code=207)


async def _once(request: Request, target: _Target, body: bytes, answer) -> Response:
    """``answer()``, once per Idempotency-Key (idempotency.py); without the header, simply ``answer()``."""
    given = request.headers.get(idempotency.HEADER)
    if given is None:
        return await answer()
    store = _idempotency(target.gateway)
    try:
        claimed = await store.claim(key=idempotency.check_key(given), body=body,
                                    scope=f"{target.key_id} {request.method} {request.url.path}")
    except idempotency.KeyProblem as exc:
        raise Refusal(exc.status, exc.status * 100 + 3, str(exc), errors={idempotency.HEADER: [str(exc)]},
                      headers={"Retry-After": RETRY_AFTER_SECONDS} if exc.status == 409 else None) from None
    except idempotency.StoreUnavailable as exc:
        raise Refusal(503, 50302, f"Requests with an {idempotency.HEADER} cannot be served now (its store is "
                      f"unavailable: {exc}); nothing was produced.", headers={"Retry-After": RETRY_AFTER_SECONDS}) \
            from None
    if isinstance(claimed, idempotency.StoredAnswer):
        return Response(claimed.body, status_code=claimed.status, media_type="application/json",
                        headers={**claimed.headers, "Idempotent-Replayed": "true"})
    try:
        response = await answer()
    except Refusal as exc:
        response = exc.response()
    except BaseException:
        await store.release(claimed)
        raise
    await store.finish(claimed, status=response.status_code, body=bytes(response.body),
                       headers={"Retry-After": response.headers["retry-after"]} if "retry-after" in response.headers
                       else {})
    return response


def _idempotency(gateway: Gateway) -> idempotency.IdempotencyStore:
    """The gateway's Idempotency-Key store, made on the first request that carries one."""
    if gateway.idempotency is None:
        gateway.idempotency = idempotency.IdempotencyStore.from_settings()
    return gateway.idempotency


def _atomic(document: dict) -> bool:
    atomic = document.get("atomic", False)
    if not isinstance(atomic, bool):
        raise Refusal(400, 400, "atomic is true or false.", errors={"atomic": [f"expected true or false, got "
                                                                              f"{json.dumps(atomic)[:40]}"]})
    return atomic


def _batch_entries(document: object) -> list[dict]:
    entries = document.get("entries") if isinstance(document, dict) else None
    unknown = sorted(set(document) - {"entries", "atomic"}) if isinstance(document, dict) else []
    if unknown:
        raise Refusal(400, 400, "A batch has entries and, optionally, atomic.",
                      errors={name: ["unknown field; a batch has entries and atomic"] for name in unknown})
    if not isinstance(entries, list) or not entries:
        raise Refusal(400, 400, "A batch is {\"entries\": [{\"id\": …, …record}]}.",
                      errors={"entries": ["a non-empty list of records, each with an id"]})
    if len(entries) > MAX_BATCH_ENTRIES:
        raise Refusal(400, 400, f"A batch holds at most {MAX_BATCH_ENTRIES} entries.",
                      errors={"entries": [f"{len(entries)} entries; at most {MAX_BATCH_ENTRIES}"]})
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str) or not entry_id:
            errors[f"entries[{index}].id"] = ["every entry needs a non-empty string id"]
        elif entry_id in seen:
            errors[f"entries[{index}].id"] = [f"id {entry_id!r} is used by an earlier entry"]
        else:
            seen.add(entry_id)
    if errors:  # ids are how failures are reported: without them, nothing could be answered per entry
        raise Refusal(400, 400, "Every batch entry needs its own id.", errors=errors)
    return entries


# --------------------------------------------------------------------------------------------- streaming
MAX_GROUP = 500  # records of a stream answered together at most (a chunk's records usually make one group)


def _line(report: dict) -> str:
    return json.dumps(report, separators=(",", ":")) + "\n"


async def _streamed_reports(target: _Target, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """One line per record, in the records' order, written as soon as it and those before it are acknowledged.

    A worker thread reads the request (each chunk fetched back on the event loop with anyio.from_thread), parses
    its records (stream.iter_records), encodes and enqueues them; the records between two chunk fetches form a
    group, one PendingBatch, handed to this generator, which writes the group's lines once it is acknowledged.
    So the loop is woken once per group, not once per record. The worker stops reading the request while
    MAX_IN_FLIGHT records are enqueued but not yet answered (HTTP flow control does the rest).
    """
    groups: asyncio.Queue = asyncio.Queue()
    room = threading.Semaphore(MAX_IN_FLIGHT)
    stopped = threading.Event()

    async def next_chunk() -> bytes | None:
        try:
            return await chunks.__anext__()
        except StopAsyncIteration:
            return None

    def hand_over(batch: _Batch, slots: list) -> None:
        batch.seal()
        if slots:
            from_thread.run_sync(groups.put_nowait, (batch, slots))

    def work() -> None:
        state = {"batch": target.new_batch(), "slots": [], "full": False}

        def flush() -> None:
            hand_over(state["batch"], state["slots"])
            state["batch"], state["slots"] = target.new_batch(), []

        def pull():
            while True:
                flush()  # the records of the chunks so far are all enqueued: answer them as a group
                chunk = from_thread.run(next_chunk)
                if chunk is None:
                    return
                yield chunk

        try:
            for item in iter_records(pull()):
                while not room.acquire(timeout=0.5):
                    if stopped.is_set():
                        return
                if stopped.is_set():
                    return
                refused = target.admit(1)  # a stream's record over the token's limit: that record's report
                slots = [refused] if refused else target.enqueue_all([item], state["batch"], after_full=state["full"])
                state["full"] = state["full"] or (isinstance(slots[0], Refusal)
                                                  and slots[0].error_code == QUEUE_FULL_CODE)
                state["slots"] += slots
                if len(state["slots"]) >= MAX_GROUP:
                    flush()
            flush()
        except ClientDisconnect:
            pass
        except Exception as exc:  # noqa: BLE001 - answered as the stream's last line, not as a broken answer
            flush()
            hand_over(target.new_batch(), [_failure(exc)])
        finally:
            if not stopped.is_set():
                from_thread.run_sync(groups.put_nowait, None)

    worker = asyncio.ensure_future(run_in_threadpool(work))
    try:
        while (group := await groups.get()) is not None:
            batch, slots = group
            await batch.done
            lines = "".join(_line(report) for report in target.reports(slots, batch))
            room.release(len(slots))
            yield lines.encode("utf-8")
        await worker
    finally:
        stopped.set()


class _ReportStream(Response):
    """A streamed answer that only sends. Starlette's StreamingResponse also listens for a disconnect with
    ``receive()`` on servers before ASGI 2.4 (uvicorn), which would take request chunks from the reader."""

    media_type = "application/json"

    def __init__(self, lines: AsyncIterator[bytes]):
        self.lines = lines
        self.status_code = 200
        self.background = None
        self.init_headers(None)

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for line in self.lines:
            await send({"type": "http.response.body", "body": line, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
