"""The gateway's Prometheus metrics, served at ``/metrics`` on its REST port (no token: scrape it from inside).

Labels stay bounded: routes are the REST route templates (``/v3/clusters/{cluster_id}/…``, ``unmatched`` for
anything else) and the gRPC method names; topics only once a grant allowed the topic (an unauthenticated caller
cannot mint label values); never a token, a team or a request id.
"""

from __future__ import annotations

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
def observe_grpc(*, service: str, method: str, code: str, seconds: float) -> None:
    """One finished call (grpc_calls.CallInterceptor): the route label is the service, the method the RPC's."""
    REQUESTS.labels(GRPC, service, method, code).inc()
    REQUEST_SECONDS.labels(GRPC, service, method).observe(seconds)


def grpc_bytes(*, received: int = 0, sent: int = 0) -> None:
    if received:
        BYTES_RECEIVED.labels(GRPC).inc(received)
    if sent:
        BYTES_SENT.labels(GRPC).inc(sent)
