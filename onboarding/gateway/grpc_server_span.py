"""The gateway's SERVER span of one gRPC call (tracing on), as server_span.py is for REST: a child of the caller's
W3C ``traceparent`` metadata, named ``<service>/<method>`` with the RPC attributes of the OpenTelemetry
conventions. The records a call publishes get their PRODUCER span beneath it (grpc_server._trace_headers).

The span is held by the call's context rather than made current: a streaming call's handler is an async generator,
and a context variable set around its ``yield``s could be reset from another context when the generator is closed.
Health checks and reflection make none: load balancers call them every few seconds.
"""

from __future__ import annotations

import grpc
from opentelemetry import propagate
from opentelemetry.trace import Span, SpanKind, StatusCode

from portal.observability import tracing

UNTRACED_SERVICES = frozenset({"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
                               "grpc.reflection.v1.ServerReflection"})
_CONTEXT_KEYS = ("traceparent", "tracestate")
# The codes that say the server failed, not the caller (the conventions' list for SERVER spans).
SERVER_FAULTS = frozenset({"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
                           "DATA_LOSS"})


def start(service: str, method: str, metadata) -> Span | None:
    """The call's span, started; None when tracing is off or the service is a probe."""
    if not tracing.enabled() or service in UNTRACED_SERVICES:
        return None
    # A malformed traceparent is ignored by the propagator: the call then starts a trace of its own.
    caller = {key: str(value) for key, value in (metadata or ()) if key in _CONTEXT_KEYS}
    return tracing.tracer.start_span(f"{service}/{method}", context=propagate.extract(caller), kind=SpanKind.SERVER,
                                     attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method})


def end(span: Span | None, *, code: str, request_id: str) -> None:
    if span is None:
        return
    span.set_attribute("rpc.grpc.status_code", grpc.StatusCode[code].value[0] if code in grpc.StatusCode.__members__
                       else grpc.StatusCode.UNKNOWN.value[0])
    span.set_attribute("rpc.request.metadata.x-request-id", [request_id])  # semconv: a list
    if code in SERVER_FAULTS:
        span.set_status(StatusCode.ERROR)
    span.end()
