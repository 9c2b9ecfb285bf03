"""The gateway's Prometheus metrics, served at ``/metrics`` on its REST port (no token: scrape it from inside).

Labels stay bounded: routes are the REST route templates (``/v3/clusters/{cluster_id}/…``, ``unmatched`` for
anything else) and the gRPC method names; topics only once a grant allowed the topic (an unauthenticated caller
cannot mint label values); never a token, a team or a request id.
"""

from __future__ import annotations

import time

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("portal_gateway_requests", "Answered requests by protocol (rest, grpc), route, method and status "
                   "(HTTP status or gRPC code name).", ["protocol", "route", "method", "status"])
REQUEST_SECONDS = Histogram("portal_gateway_request_duration_seconds", "Time from a request's start to its last "
                            "answer byte (a stream's whole life).", ["protocol", "route", "method"],
                            buckets=LATENCY_BUCKETS)
BYTES_RECEIVED = Counter("portal_gateway_received_bytes", "Request body bytes (REST) and request message bytes "
                         "(gRPC) received.", ["protocol"])
BYTES_SENT = Counter("portal_gateway_sent_bytes", "Response body bytes (REST) and response message bytes (gRPC) "
                     "sent.", ["protocol"])
PRODUCED = Counter("portal_gateway_records_produced", "Records a caller asked to produce, by topic and outcome: "
                   "delivered, refused (Kafka or the record's own problem), unavailable, queue_full, rate_limited.",
                   ["topic", "outcome"])
CONSUMED = Counter("portal_gateway_records_consumed", "Events handed to consumers, by topic and how (page, stream).",
                   ["topic", "outcome"])
GRANT_DECISIONS = Counter("portal_gateway_grant_decisions", "Authentication and authorisation decisions by protocol, "
                          "what was asked (authenticate, produce, consume), outcome (allowed, denied) and reason "
                          "(ok, missing_token, malformed_token, unknown_token, wrong_secret, expired, not_granted, "
                          "read_only).", ["protocol", "action", "outcome", "reason"])
RATE_LIMITED = Counter("portal_gateway_rate_limited", "Answers refused by a token's rate limit, by protocol and "
                       "limit (requests, records).", ["protocol", "limit"])
AUDIT_DROPPED = Counter("portal_gateway_audit_records_dropped", "Denials logged but not written to the audit topic "
                        "(the producer's queue was full or the write failed).")

GRPC = "grpc"
REST = "rest"


# ------------------------------------------------------------------------------------------------------ REST
async def serve(request: Request) -> Response:
    """The process's metrics in Prometheus' text format (the default registry: the process collectors too)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def route_of(scope) -> str:
    """The route template a request matched (Starlette leaves its Route in the scope), or ``unmatched``: never the
    raw path, which holds topic names."""
    return getattr(scope.get("route"), "path", None) or "unmatched"


def observe_rest(*, route: str, method: str, status: int, seconds: float, received: int, sent: int) -> None:
    REQUESTS.labels(REST, route, method, str(status)).inc()
    REQUEST_SECONDS.labels(REST, route, method).observe(seconds)
    if received:
        BYTES_RECEIVED.labels(REST).inc(received)
    if sent:
        BYTES_SENT.labels(REST).inc(sent)


# ------------------------------------------------------------------------------------------------- records
def produced(topic: str, outcome: str, n: int = 1) -> None:
    if n:
        PRODUCED.labels(topic, outcome).inc(n)


def outcome_of(error_code: int) -> str:
    """A delivery report's error code (Confluent's) as an outcome label."""
    if error_code == 200:
        return "delivered"
    if error_code == 42901:
        return "queue_full"
    if error_code == 42902:
        return "rate_limited"
    if error_code // 100 == 503 or error_code == 503:
        return "unavailable"
    return "refused"


def consumed(topic: str, outcome: str, n: int = 1) -> None:
    if n:
        CONSUMED.labels(topic, outcome).inc(n)


def decision(protocol: str, action: str, reason: str) -> None:
    GRANT_DECISIONS.labels(protocol, action, "allowed" if reason == "ok" else "denied", reason).inc()


def rate_limited(protocol: str, limit: str) -> None:
    RATE_LIMITED.labels(protocol, limit).inc()


# ------------------------------------------------------------------------------------------------------ gRPC
class GrpcMetrics(grpc.aio.ServerInterceptor):
    """Counts every gRPC call (status, latency, message bytes) of the services it wraps, by method name.

    Reflection and health are counted too: their method names are a fixed set.
    """

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(handler.unary_unary, service, method), request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                _streaming(handler.stream_stream, service, method), request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _unary_stream(handler.unary_stream, service, method),
                request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer)
        return handler  # client streaming: no such method in these services


def _size(message) -> int:
    return message.ByteSize() if hasattr(message, "ByteSize") else 0


def _code(context, error: BaseException | None) -> str:
    code = context.code() if hasattr(context, "code") else None
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return grpc.StatusCode(code).name if code in {c.value[0] for c in grpc.StatusCode} else str(code)
    return "OK" if error is None else ("CANCELLED" if isinstance(error, BaseException) and
                                       type(error).__name__ == "CancelledError" else "UNKNOWN")


def _observe_grpc(service: str, method: str, context, error, started: float) -> None:
    REQUESTS.labels(GRPC, service, method, _code(context, error)).inc()
    REQUEST_SECONDS.labels(GRPC, service, method).observe(time.monotonic() - started)


def _unary(behaviour, service, method):
    async def wrapped(request, context):
        started, error = time.monotonic(), None
        BYTES_RECEIVED.labels(GRPC).inc(_size(request))
        try:
            response = await behaviour(request, context)
            BYTES_SENT.labels(GRPC).inc(_size(response))
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            _observe_grpc(service, method, context, error, started)
    return wrapped


def _unary_stream(behaviour, service, method):
    async def wrapped(request, context):
        started, error = time.monotonic(), None
        BYTES_RECEIVED.labels(GRPC).inc(_size(request))
        try:
            async for response in behaviour(request, context):
                BYTES_SENT.labels(GRPC).inc(_size(response))
                yield response
        except BaseException as exc:
            error = exc
            raise
        finally:
            _observe_grpc(service, method, context, error, started)
    return wrapped


def _streaming(behaviour, service, method):
    async def wrapped(request_iterator, context):
        started, error = time.monotonic(), None

        async def counted():
            async for request in request_iterator:
                BYTES_RECEIVED.labels(GRPC).inc(_size(request))
                yield request

        try:
            async for response in behaviour(counted(), context):
                BYTES_SENT.labels(GRPC).inc(_size(response))
                yield response
        except BaseException as exc:
            error = exc
            raise
        finally:
            _observe_grpc(service, method, context, error, started)
    return wrapped
