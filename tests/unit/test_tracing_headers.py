"""Trace context in Kafka record headers: read from confluent-kafka's (name, bytes) pairs, and written
in place of the source record's context without touching the other headers."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from portal.observability.tracing import context_from_headers, headers_with_context

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_context_of_a_traceparent_header_given_as_bytes_is_read():
    context = context_from_headers([("other", b"x"), ("traceparent", TRACEPARENT.encode())])
    span_context = trace.get_current_span(context).get_span_context()
    assert format(span_context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert format(span_context.span_id, "016x") == "00f067aa0ba902b7"


def test_records_without_trace_headers_give_an_empty_context():
    assert not trace.get_current_span(context_from_headers(None)).get_span_context().is_valid
    assert not trace.get_current_span(context_from_headers([("a", None)])).get_span_context().is_valid


def test_the_current_span_replaces_the_source_traceparent_and_other_headers_stay():
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("process", context=context_from_headers([("traceparent", TRACEPARENT)])) as span:
        headers = headers_with_context([("traceparent", TRACEPARENT), ("patient-system", b"ehr")])
    names = [name for name, _ in headers]
    assert names.count("traceparent") == 1 and ("patient-system", b"ehr") in headers
    (value,) = [v for k, v in headers if k == "traceparent"]
    assert value == f"00-4bf92f3577b34da6a3ce929d0e0e4736-{format(span.get_span_context().span_id, '016x')}-01"


def test_without_a_current_span_the_headers_are_left_as_they_are():
    headers = [("traceparent", TRACEPARENT), ("x", b"1")]
    assert headers_with_context(headers) == headers
