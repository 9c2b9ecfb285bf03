"""The router's own /metrics and its part in a trace, on the real broker with the Router in this process."""

import socket
import time
import urllib.request

from opentelemetry import propagate, trace
from prometheus_client.parser import text_string_to_metric_families

from onboarding.routing import metrics
from onboarding.routing.router import Router
from tests.fixtures.tracing import span_id_of, trace_id_of
from tests.fixtures.waiting import wait_for
from tests.integration.routing.conftest import make_rule, produce_events, read_committed, upsert


def _route(router: Router, records: int, timeout: float = 60) -> None:
    """run_once until ``records`` were routed (the first calls may only join the group and get partitions)."""
    handled, deadline = 0, time.monotonic() + timeout
    while handled < records and time.monotonic() < deadline:
        handled += router.run_once(timeout=1.0)
    assert handled == records, f"the router routed {handled} of {records} records within {timeout}s"


def _started_router(unique, rules_topic) -> Router:
    router = Router(group_id=f"router-{unique}", rules_topic=rules_topic)
    router.start()
    return router


def _scrape(port: int) -> dict[tuple, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_metrics_endpoint_counts_a_routed_and_a_filtered_record(topics, producer, unique):
    src, dst, dlq = topics["src"], topics["dst"], topics["dlq"]
    sub = f"sub-{unique}"
    upsert(producer, topics["rules"], make_rule(sub, src, dst, dlq, filter="value.ward == 'ICU'"))
    produce_events(producer, src, [{"n": 0, "ward": "ICU"}, {"n": 1, "ward": "Cardio"}])
    server = metrics.serve(0, address="127.0.0.1")
    router = _started_router(unique, topics["rules"])
    try:
        _route(router, 2)
        router.lag.refresh(router.consumer)
        scraped = _scrape(server.server_port)
    finally:
        router.close()
        server.shutdown()
        server.server_close()

    assert scraped[("portal_router_records_consumed_total", (("topic", src),))] == 2
    assert scraped[("portal_router_events_total", (("outcome", "routed"), ("subscription", sub)))] == 1
    assert scraped[("portal_router_events_total", (("outcome", "filtered_out"), ("subscription", sub)))] == 1
    assert scraped[("portal_router_batch_duration_seconds_count", ())] >= 1
    assert scraped[("portal_router_consumer_lag", (("group", f"router-{unique}"), ("partition", "0"),
                                                   ("topic", src)))] == 0


def test_the_router_continues_the_producers_trace_into_the_destination_record(spans, topics, producer, unique):
    src, dst, dlq = topics["src"], topics["dst"], topics["dlq"]
    upsert(producer, topics["rules"], make_rule(f"sub-{unique}", src, dst, dlq))
    with trace.get_tracer("test").start_as_current_span("admit patient", kind=trace.SpanKind.PRODUCER) as origin:
        carrier = {}
        propagate.inject(carrier)
        produce_events(producer, src, [{"n": 0, "ward": "ICU"}], headers=list(carrier.items()))
    router = _started_router(unique, topics["rules"])
    try:
        _route(router, 1)
    finally:
        router.close()

    (processed,) = [s for s in spans.get_finished_spans() if s.name == f"{src} process"]
    assert trace_id_of(processed) == trace_id_of(origin)
    assert processed.parent.span_id == origin.context.span_id
    assert processed.kind == trace.SpanKind.CONSUMER

    (record,) = read_committed(dst, expect=1, timeout=30, settle=0.5)
    _version, trace_id, parent_id, _flags = record["headers"]["traceparent"].split("-")
    assert trace_id == trace_id_of(origin)
    assert parent_id == span_id_of(processed)  # the copy is the router's child, not a sibling of the original
    assert record["headers"]["route.source.topic"] == src


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_run_router_serves_metrics_on_the_configured_port(topics, producer, router_process, unique, monkeypatch):
    src, dst, dlq = topics["src"], topics["dst"], topics["dlq"]
    sub = f"sub-{unique}"
    upsert(producer, topics["rules"], make_rule(sub, src, dst, dlq))
    port = _free_port()
    monkeypatch.setenv("ROUTER_METRICS_PORT", str(port))
    router_process(f"router-{unique}", topics["rules"])
    produce_events(producer, src, [{"n": 0, "ward": "ICU"}])

    routed = ("portal_router_events_total", (("outcome", "routed"), ("subscription", sub)))
    wait_for(lambda: _scrape(port).get(routed) == 1, timeout=60, message="the routed event in the router's /metrics")
