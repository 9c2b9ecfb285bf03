"""The gateway's gRPC API (gateway.proto, ``portal.gateway.v1.EventGateway``), with reflection and health.

A ``grpc.aio`` server on the same event loop as the REST app, sharing its parts (app.Gateway): the grants table,
the one DeliveryProducer (a request's records are encoded and enqueued into one PendingBatch in a worker thread,
and the loop is woken once when the batch is acknowledged), the registry's schema cache. A proto Record is
converted to the REST v3 record and encoded by the same ``encode_record`` (grpc_records.py).

* ``Publish``: a batch for one topic; any invalid record fails the whole call with INVALID_ARGUMENT and every
  violation (google.rpc.BadRequest), and nothing is produced;
* ``PublishStream``: one result per record, in order; reading stops while MAX_IN_FLIGHT records are unacknowledged;
* ``Consume``: events of a topic for the team's consumer group, one per credit the client granted, each with its
  cursor; acknowledged cursors are committed. It reads through the REST consume side's EventReader (decoding,
  cursors, commits), with reading paused while the client has no credit left (grpc_consume.py).

The stubs are generated from the .proto when this module is imported, if they are stale (proto/build.py).
"""

from __future__ import annotations

import asyncio
import logging
import re

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from onboarding.gateway import consume, grpc_calls
from onboarding.gateway.app import Gateway
from onboarding.gateway.grants import Grant
from onboarding.gateway.grpc_consume import Refused, consume_stream, stream_reader
from onboarding.gateway.grpc_records import encode, invalid, status
from onboarding.gateway.proto.build import load_stubs
from onboarding.gateway.record_error import RecordError
from onboarding.gateway.server import DeliveryFailed, PendingBatch, QueueFull
from onboarding.platform.errors import PlatformError
from portal.observability import tracing

gateway_pb2, gateway_pb2_grpc = load_stubs()

logger = logging.getLogger(__name__)
SERVICE_NAME = gateway_pb2.DESCRIPTOR.services_by_name["EventGateway"].full_name  # portal.gateway.v1.EventGateway
MAX_RECORDS = 1000  # records of one Publish call (the REST batch's limit)
MAX_IN_FLIGHT = 1000  # records of one PublishStream produced but not yet acknowledged: reading pauses beyond this
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # one request message (the REST body's limit)
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_UNAUTHENTICATED = ("a valid team token (metadata authorization: Bearer pep_…) or a service account's "
                    "credentials (authorization: Basic) are required")


class _Refused(Exception):
    """The call (Publish) or the request's records (PublishStream) are answered with this status."""

    def __init__(self, answer: status_pb2.Status):
        super().__init__(answer.message)
        self.status = answer


class EventGatewayServicer(gateway_pb2_grpc.EventGatewayServicer):
    def __init__(self, gateway: Gateway, events: consume.EventReader):
        self.gateway = gateway
        self.events = events  # Consume's reader (grpc_consume.stream_reader)

    # ----------------------------------------------------------------------------------------- checks
    def _bearer(self, context) -> Grant | None:
        metadata = dict(context.invocation_metadata() or ())
        return self.gateway.grants.check_authorization(str(metadata.get("authorization", "")))[0]

    def _grant(self, context) -> Grant:
        grant = self._bearer(context)
        grant, refusal = grpc_calls.guard(self.gateway, context, grant)  # counted, a denial audited; rate limit
        if refusal is not None:
            raise _Refused(refusal)
        if grant is None:
            # One answer for unknown, wrong, expired and revoked tokens: a caller learns nothing about which.
            raise _Refused(status(code_pb2.UNAUTHENTICATED, _UNAUTHENTICATED))
        return grant

    async def _partitions(self, grant: Grant, topic: str) -> int:
        """PERMISSION_DENIED before NOT_FOUND: who may not publish here learns nothing of the topic."""
        if not topic:
            raise _Refused(invalid({"topic": ["the topic to publish to is required"]}, message="No topic given"))
        if not grpc_calls.authorised(self.gateway, grant, "produce", topic):
            raise _Refused(status(code_pb2.PERMISSION_DENIED,
                                  f"Token {grant.principal} of team {grant.team} may not produce to {topic}."))
        try:
            partitions = await asyncio.to_thread(self.gateway.producer.partitions, topic)
        except DeliveryFailed as exc:
            raise _Refused(status(code_pb2.UNAVAILABLE, f"Kafka metadata is unavailable: {exc}")) from None
        if partitions is None:
            raise _Refused(status(code_pb2.NOT_FOUND, f"Topic {topic} cannot be found."))
        return partitions

    def _encode_all(self, records, *, topic: str, partitions: int) -> list:
        """Each record encoded, or its RecordError (paths relative to the record); runs in a worker thread."""
        results = []
        for record in records:
            try:
                encoded = encode(record, topic=topic, schemas=self.gateway.schemas, validate=self.gateway.validate)
                if encoded.partition is not None and encoded.partition >= partitions:
                    raise RecordError({"partition_id": [f"the topic has partitions 0 to {partitions - 1}"]})
                results.append(encoded)
            except RecordError as exc:
                results.append(exc)
        return results

    def _encode_and_enqueue(self, records, *, topic: str, partitions: int, trace_headers: list,
                            batch: PendingBatch, all_or_nothing: bool) -> tuple[list, list | None]:
        """Encode every record, then enqueue them in order into ``batch``, in one worker-thread trip; each
        record's slot is its index in the batch or the Status answering it. With ``all_or_nothing``, an invalid
        record means nothing is enqueued (the slots are None). Once the queue stayed full, later records are
        refused too, so none overtakes a refused one."""
        encoded = self._encode_all(records, topic=topic, partitions=partitions)
        if all_or_nothing and any(isinstance(item, RecordError) for item in encoded):
            return encoded, None
        slots, full = [], False
        for index, item in enumerate(encoded):
            if isinstance(item, RecordError):
                slots.append(invalid(item.errors, prefix=f"records[{index}].",
                                     message=f"The record cannot be produced: {item}"))
                continue
            if full:
                slots.append(_queue_full())
                continue
            headers = item.headers
            if trace_headers:
                names = {name for name, _ in headers}
                headers = [*headers, *((name, value) for name, value in trace_headers if name not in names)]
            try:
                slots.append(self.gateway.producer.enqueue(
                    batch, topic=topic, key=item.key, value=item.value, headers=headers, partition=item.partition,
                    timestamp_ms=item.timestamp_ms))
            except QueueFull:
                full = True
                slots.append(_queue_full())
            except Exception as exc:  # noqa: BLE001 - librdkafka's own checks at produce(): that record's result
                slots.append(_failure(exc))
        return encoded, slots

    # ---------------------------------------------------------------------------------------- Publish
    async def Publish(self, request, context):
        try:
            grant = self._grant(context)
            partitions = await self._partitions(grant, request.topic)
            if not request.records or len(request.records) > MAX_RECORDS:
                raise _Refused(invalid({"records": [f"from 1 to {MAX_RECORDS} records, got {len(request.records)}"]},
                                       message="A Publish call holds 1 to 1000 records"))
            if refusal := grpc_calls.admit_records(self.gateway, grant, request.topic, len(request.records)):
                raise _Refused(refusal)
            batch = PendingBatch(asyncio.get_running_loop())
            try:
                encoded, slots = await asyncio.to_thread(
                    self._encode_and_enqueue, request.records, topic=request.topic, partitions=partitions,
                    trace_headers=_trace_headers(context, request.topic), batch=batch, all_or_nothing=True)
            finally:
                batch.seal()
        except _Refused as exc:
            await context.abort_with_status(rpc_status.to_status(exc.status))
        except PlatformError as exc:  # the schema registry: not the records' fault, and worth a retry
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"The schema registry is unavailable: {exc}")
        if slots is None:  # all or nothing: no record of a batch with an invalid one is produced
            errors = {f"records[{index}].{path}": messages for index, item in enumerate(encoded)
                      if isinstance(item, RecordError) for path, messages in item.errors.items()}
            bad = sum(isinstance(item, RecordError) for item in encoded)
            await context.abort_with_status(rpc_status.to_status(invalid(
                errors, message=f"{bad} of {len(encoded)} records cannot be produced; none was")))
        if not len(batch) and slots and slots[0].code == code_pb2.RESOURCE_EXHAUSTED:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, _queue_full().message)
        await batch.done  # enqueued in order; the acknowledgements are awaited together
        results = [_result(index, slot, batch) for index, slot in enumerate(slots)]
        grpc_calls.count_published(request.topic, results)
        return gateway_pb2.PublishResponse(results=results)

    # ---------------------------------------------------------------------------------- PublishStream
    async def PublishStream(self, request_iterator, context):
        try:
            self._grant(context)
        except _Refused as exc:
            await context.abort_with_status(rpc_status.to_status(exc.status))
        queue: asyncio.Queue = asyncio.Queue(maxsize=MAX_IN_FLIGHT)

        async def read() -> None:
            sequence = 0
            try:
                async for request in request_iterator:
                    slots, batch = await self._stream_request(request, context)
                    for slot in slots:
                        await queue.put((sequence, slot, batch))  # waits while MAX_IN_FLIGHT are unanswered
                        sequence += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # the client went away mid-stream, or a bug: the results so far are still answered
                logger.exception("gateway gRPC: reading a PublishStream failed")
            finally:
                await queue.put(None)

        reader = asyncio.ensure_future(read())
        try:
            while (item := await queue.get()) is not None:
                sequence, slot, batch = item
                await batch.done  # at once for the later records of a request already acknowledged
                yield _result(sequence, slot, batch)
        finally:
            reader.cancel()

    async def _stream_request(self, request, context) -> tuple[list, PendingBatch]:
        """The slots of one stream request's records (see _encode_and_enqueue) and the batch they are in."""
        batch = PendingBatch(asyncio.get_running_loop())
        try:
            grant = self._grant(context)  # again for each request: a revoked token stops a stream within seconds
            partitions = await self._partitions(grant, request.topic)
            if refusal := grpc_calls.admit_records(self.gateway, grant, request.topic, len(request.records)):
                raise _Refused(refusal)  # this request's records are answered with it; the stream goes on
            _, slots = await asyncio.to_thread(
                self._encode_and_enqueue, request.records, topic=request.topic, partitions=partitions,
                trace_headers=_trace_headers(context, request.topic), batch=batch, all_or_nothing=False)
        except _Refused as exc:
            slots = [exc.status for _ in request.records]
        except PlatformError as exc:
            slots = [status(code_pb2.UNAVAILABLE, f"The schema registry is unavailable: {exc}")
                     for _ in request.records]
        finally:
            batch.seal()
        return slots, batch

    # ---------------------------------------------------------------------------------------- Consume
    async def Consume(self, request_iterator, context):
        try:
            grant = self._grant(context)  # counted, a denial audited, one request of the token's rate limit
        except _Refused as exc:
            await context.abort_with_status(rpc_status.to_status(exc.status))
        responses = consume_stream(
            self.events, gateway_pb2, request_iterator, grant=grant, authenticate=lambda: self._bearer(context),
            authorise=lambda topic: grpc_calls.authorised(self.gateway, grant, "consume", topic),
            masking=self.gateway.grants.masking)
        try:
            async for response in responses:
                yield response
        except Refused as exc:
            await context.abort_with_status(rpc_status.to_status(exc.status))
        finally:
            await responses.aclose()


# ------------------------------------------------------------------------------------------------ results
def _queue_full() -> status_pb2.Status:
    return status(code_pb2.RESOURCE_EXHAUSTED, "The gateway's producer queue is full; retry shortly.")


def _failure(exc: Exception) -> status_pb2.Status:
    if isinstance(exc, DeliveryFailed):
        if exc.retriable:
            return status(code_pb2.UNAVAILABLE, f"Kafka did not accept the record in time: {exc}")
        return status(code_pb2.INVALID_ARGUMENT, f"Kafka refused the record: {exc}")
    if isinstance(exc, (ValueError, TypeError)) or type(exc).__name__ == "KafkaException":
        return status(code_pb2.INVALID_ARGUMENT, f"Kafka refused the record: {exc}")
    logger.error("gateway gRPC: unexpected failure producing a record", exc_info=exc)
    return status(code_pb2.INTERNAL, "Internal error while producing the record.")


def _result(sequence: int, slot, batch: PendingBatch):
    """The PublishResult of a record: its slot is an index into the (settled) batch or the Status answering it."""
    outcome = batch.outcomes[slot] if isinstance(slot, int) else slot
    if isinstance(outcome, DeliveryFailed):
        outcome = _failure(outcome)
    if isinstance(outcome, status_pb2.Status):
        return gateway_pb2.PublishResult(sequence=sequence, error=outcome)
    delivery = gateway_pb2.Delivery(partition=outcome.partition, offset=outcome.offset)
    if outcome.timestamp_ms is not None:
        delivery.timestamp.FromMilliseconds(outcome.timestamp_ms)
    return gateway_pb2.PublishResult(sequence=sequence, delivery=delivery)


def _trace_headers(context, topic: str) -> list[tuple[str, bytes]]:
    """The W3C trace context for the records' headers, as the REST API does: without tracing, the caller's
    ``traceparent`` metadata as it is; with it, a PRODUCER span beneath the call's SERVER span (``context.span``,
    grpc_calls.py), or beneath the caller's context for a servicer not behind the interceptor."""
    metadata = dict(context.invocation_metadata() or ())
    incoming = {}
    traceparent = str(metadata.get("traceparent", "")).strip()
    if _TRACEPARENT.fullmatch(traceparent):
        incoming["traceparent"] = traceparent
        if metadata.get("tracestate"):
            incoming["tracestate"] = str(metadata["tracestate"])[:512]
    if not tracing.enabled():
        return [(name, value.encode("ascii", errors="replace")) for name, value in incoming.items()]
    server = getattr(context, "span", None)
    parent = trace.set_span_in_context(server) if server is not None else propagate.extract(incoming)
    with tracing.tracer.start_as_current_span(f"{topic} publish", context=parent,
                                              kind=SpanKind.PRODUCER, attributes={
                                                  "messaging.system": "kafka", "messaging.destination.name": topic,
                                                  "rpc.system": "grpc"}):
        return [(name, value.encode("ascii", errors="replace") if isinstance(value, str) else value)
                for name, value in tracing.headers_with_context([])]


# ------------------------------------------------------------------------------------------------- server
class GrpcServer:
    """The running grpc.aio server: EventGateway, reflection and health, on one port."""

    def __init__(self, server: grpc.aio.Server, health_servicer, port: int):
        self.server, self.health, self.port = server, health_servicer, port

    async def stop(self, grace: float | None = 30.0) -> None:
        """Health answers NOT_SERVING, new calls are refused, calls in flight get ``grace`` seconds to finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_grpc_server(gateway: Gateway, *, host: str, port: int,
                            events: consume.EventReader | None = None) -> GrpcServer:
    """Bind (port 0: any free port, see ``.port``) and start serving; call it on the loop that will run it.
    ``events``: the consume side (Consume reads through it), by default from settings."""
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)],
                             interceptors=[grpc_calls.CallInterceptor()])
    servicer = EventGatewayServicer(gateway, stream_reader(events or consume.EventReader.from_settings()))
    gateway_pb2_grpc.add_EventGatewayServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    await server.start()
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return GrpcServer(server, health_servicer, bound)
