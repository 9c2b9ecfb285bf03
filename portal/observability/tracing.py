"""OpenTelemetry tracing: set up once per process, and only when an OTLP endpoint is configured.

Without OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_ENABLED=true) nothing is installed: the OpenTelemetry API
stays a no-op, so the spans written around services and adapters cost a function call, and no exporter
thread runs. The exporter itself reads the standard OTEL_* variables (endpoint, headers, protocol,
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).

A trace runs browser/API request -> service -> Celery task (context in the task headers) -> admin call,
and producer -> router -> destination through the W3C ``traceparent`` Kafka header; a gateway request is a SERVER
span (onboarding/gateway/server_span.py) over its records' PRODUCER span, which the mapper's and the router's
spans continue from the records' headers.
"""

from __future__ import annotations

import functools
import logging
import os
import threading

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

log = logging.getLogger(__name__)
_lock = threading.Lock()
_state = {"enabled": False, "provider": None, "instrumented": [], "processor": None}
_TRUE = {"1", "true", "yes", "on"}
tracer = trace.get_tracer("portal")


def wanted() -> bool:
    """Whether the environment asks for tracing (an OTLP endpoint, or OTEL_ENABLED)."""
    explicit = os.environ.get("OTEL_ENABLED", "").strip().lower()
    if explicit:
        return explicit in _TRUE
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())


def enabled() -> bool:
    """Whether this process records spans (so the router rewrites trace headers only then)."""
    return _state["enabled"]


def configure_tracing(service_name: str, *, exporter=None, instrument: tuple[str, ...] = ("django", "celery",
                      "requests", "psycopg")) -> bool:
    """Install the tracer provider and the library instrumentations, once; returns whether tracing is on.

    ``exporter`` replaces the OTLP exporter (tests pass an InMemorySpanExporter, exported synchronously).
    """
    if exporter is None and not wanted():
        return False
    with _lock:
        if _state["enabled"]:
            return True
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        from portal.observability.processors import SwitchableProcessor

        if _state["provider"] is None:
            name = os.environ.get("OTEL_SERVICE_NAME") or service_name
            _state["provider"] = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
            _state["processor"] = SwitchableProcessor()
            _state["provider"].add_span_processor(_state["processor"])
            # One global provider per process is all OpenTelemetry accepts; later set-ups (tests) switch
            # the exporting processor instead.
            trace.set_tracer_provider(_state["provider"])
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            if protocol.startswith("http"):
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            _state["processor"].switch_to(BatchSpanProcessor(OTLPSpanExporter()))
        else:
            _state["processor"].switch_to(SimpleSpanProcessor(exporter))
        _instrument(instrument)
        _state["enabled"] = True
    log.info("tracing on for %s", service_name)
    return True


def shutdown_tracing() -> None:
    """Undo configure_tracing's instrumentations and stop recording (tests; a process exit flushes itself)."""
    with _lock:
        for instrumentor in _state["instrumented"]:
            instrumentor.uninstrument()
        _state["instrumented"] = []
        if _state["processor"] is not None:
            _state["processor"].switch_to(None)
        _state["enabled"] = False


def _instrument(names: tuple[str, ...]) -> None:
    factories = {
        "django": lambda: _load("opentelemetry.instrumentation.django", "DjangoInstrumentor"),
        "celery": lambda: _load("opentelemetry.instrumentation.celery", "CeleryInstrumentor"),
        "requests": lambda: _load("opentelemetry.instrumentation.requests", "RequestsInstrumentor"),
        "psycopg": lambda: _load("opentelemetry.instrumentation.psycopg", "PsycopgInstrumentor"),
    }
    for name in names:
        instrumentor = factories[name]()
        if instrumentor is None:
            continue
        if name == "django":
            # /metrics and the health probes are scraped every few seconds: no trace for each.
            instrumentor.instrument(excluded_urls="metrics,healthz,readyz")
        else:
            instrumentor.instrument()
        _state["instrumented"].append(instrumentor)


def _load(module: str, name: str):
    try:
        return getattr(__import__(module, fromlist=[name]), name)()
    except ImportError:  # an optional instrumentation that is not installed
        log.warning("tracing: %s is not installed", module)
        return None


# ---------------------------------------------------------------------------- spans around our own code
def traced(name: str | None = None, *, kind: trace.SpanKind = trace.SpanKind.INTERNAL):
    """Decorator: run the function in a span (named ``name`` or after the function); errors are recorded.

    Only inside a trace (a request, a task, a routed record): health probes and shell sessions would
    otherwise fill the tracing backend with one-span traces.
    """

    def decorate(function):
        span_name = name or f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if not _state["enabled"] or not trace.get_current_span().get_span_context().is_valid:
                return function(*args, **kwargs)
            with tracer.start_as_current_span(span_name, kind=kind):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def traced_methods(prefix: str, *, skip: tuple[str, ...] = ()):
    """Class decorator: a CLIENT span ``<prefix>.<method>`` around each public method the class defines."""

    def decorate(cls):
        for attr, value in list(vars(cls).items()):
            if attr.startswith("_") or attr in skip or not callable(value) or isinstance(value, (classmethod,
                                                                                                   staticmethod)):
                continue
            setattr(cls, attr, traced(f"{prefix}.{attr}", kind=trace.SpanKind.CLIENT)(value))
        return cls

    return decorate


# ---------------------------------------------------------------------------- Kafka record headers
class _HeaderGetter:
    """Reads W3C trace context from confluent-kafka headers (a list of (str, bytes) pairs)."""

    def get(self, carrier, key):
        for name, value in carrier or []:
            if name == key and value is not None:
                return [value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value]
        return None

    def keys(self, carrier):
        return [name for name, _ in carrier or []]


_GETTER = _HeaderGetter()


def context_from_headers(headers) -> otel_context.Context:
    """The trace context a producer put into a record's headers (an empty context when none)."""
    return propagate.extract(headers or [], getter=_GETTER)


def headers_with_context(headers: list[tuple[str, str | bytes]]) -> list[tuple[str, str | bytes]]:
    """``headers`` with the current span's trace context in place of any the source record carried."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if not carrier:
        return headers
    return [(k, v) for k, v in headers if k not in carrier] + list(carrier.items())


def service_span(function):
    """Decorator for service functions: a ``service.<name>`` span between the request and the tasks it queues."""
    return traced(f"service.{function.__name__}")(function)
