"""The gateway's SERVER span of one REST request (tracing on): a child of the caller's W3C ``traceparent``, so the
PRODUCER span of its records (produce_target.py) and whatever consumes them (router, mapper) join the caller's
trace with the request in it.

Plain ASGI, as the request-id middleware is, so a streamed request or answer is neither buffered nor cut; the span
lasts as long as the exchange. The span is named ``<METHOD> <route template>`` once routing has matched (the
template, never the path, so names stay few). Probes and scrapes get none: they come every few seconds and would
fill the tracing backend with one-span traces (the portal's Django instrumentation leaves them out too).
"""

from __future__ import annotations

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, StatusCode

from onboarding.gateway import metrics
from portal.observability import tracing

UNTRACED_PATHS = frozenset({"/healthz", "/metrics"})
_CONTEXT_HEADERS = (b"traceparent", b"tracestate")


class ServerSpanMiddleware:
    def __init__(self, app):
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not tracing.enabled() or scope["path"] in UNTRACED_PATHS:
            return await self.app(scope, receive, send)
        # A malformed traceparent is ignored by the propagator: the request then starts a trace of its own.
        caller = {name.decode("latin-1"): value.decode("latin-1")
                  for name, value in scope["headers"] if name in _CONTEXT_HEADERS}
        status = [0]

        async def send_noting_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        method = scope["method"]
        with tracing.tracer.start_as_current_span(method, context=propagate.extract(caller), kind=SpanKind.SERVER,
                                                  attributes={"http.request.method": method,
                                                              "url.path": scope["path"]}) as span:
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                route = metrics.route_of(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                request_id = scope.get("state", {}).get("request_id")
                if request_id:
                    span.set_attribute("http.request.header.x-request-id", [request_id])  # semconv: a list
                if status[0]:
                    span.set_attribute("http.response.status_code", status[0])
                if status[0] >= 500:
                    span.set_status(StatusCode.ERROR)
