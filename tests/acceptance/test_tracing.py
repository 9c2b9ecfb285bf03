"""Traces across the real processes, read back from the stack's Jaeger: an API request down to the worker's Kafka
admin call, and a produced event through the router to its destination.

Each journey sends its own W3C traceparent (as a caller's tracing would), so the trace is found by its id. The
acceptance stack's processes export to Jaeger over OTLP (stack.py); the conftest runs these journeys last.
"""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Producer

from tests.acceptance import kafka, steps
from tests.fixtures.jaeger import (
    START_TIMEOUT_SECONDS,
    TraceContext,
    ensure_running,
    fetch_trace,
    parse_traceparent,
)
from tests.fixtures.waiting import wait_for

WEB, WORKER, ROUTER = "portal-web", "portal-worker", "portal-router"
TASK = "onboarding.reconcile_cluster"
# The beat's sweep (every 2 s here) may queue a run of its own for a new topic and claim it before the request's
# task does: then the admin call is in the sweep's trace. A journey tries again with another topic when so.
ATTEMPTS = 3
# The first journey may wait for a cold build of Jaeger that `scripts/stack up` started in the background.
pytestmark = pytest.mark.timeout(START_TIMEOUT_SECONDS + 300)


@pytest.fixture(scope="module")
def jaeger(stack) -> str:
    return ensure_running()


def _trace_with(jaeger: str, context: TraceContext, name: str, service: str):
    """Once Jaeger has the span `name` of `service` in the trace (its children end, and are exported, first)."""
    return wait_for(lambda: (trace := fetch_trace(context.trace_id, jaeger)) and trace.named(name, service) and trace,
                    timeout=30, message=f"{service}'s span {name} in trace {context.trace_id} in Jaeger")


def test_an_api_request_is_one_trace_with_its_celery_task_and_the_workers_kafka_admin_call(jaeger, as_user, run):
    alice = as_user("alice")
    for attempt in range(ATTEMPTS):
        caller = TraceContext.new()
        answer = alice.post("topics/", {"cluster": "local", "team": "payments", "partitions": 1,
                                        "name": f"payments.{run}-traced-{attempt}"},
                            headers={"traceparent": caller.traceparent})
        assert answer.status_code == 201, answer.text
        alice.wait_status(f"topics/{answer.json()['id']}/")
        trace = _trace_with(jaeger, caller, f"run/{TASK}", WORKER)
        if trace.named("kafka.admin.create_topics", WORKER):
            break
    else:
        pytest.fail(f"in {ATTEMPTS} attempts the request's task never made the admin call: {trace.outline()}")

    (request,) = [span for span in trace.spans if span.service == WEB and span.kind == "server"]
    assert request.parent_id == caller.span_id, "the request did not continue the caller's traceparent"
    service = trace.one("service.topic_create", WEB)
    assert trace.descends_from(service, request)
    publish = trace.one(f"apply_async/{TASK}", WEB)
    assert publish.kind == "producer" and trace.descends_from(publish, request)
    task = trace.one(f"run/{TASK}", WORKER)
    assert task.parent_id == publish.span_id, "the worker's run is not a child of the request's publish"
    admin = trace.one("kafka.admin.create_topics", WORKER)
    assert admin.kind == "client" and trace.descends_from(admin, task), trace.outline()


def test_a_produced_event_is_one_trace_through_the_router_to_its_routed_copy(jaeger, as_user, run):
    alice, bob = as_user("alice"), as_user("bob")
    writer = steps.service_account(alice, team="payments", name=f"{run}-traced-writer")
    reader = steps.service_account(bob, team="clinical", name=f"{run}-traced-reader")
    source = steps.topic(alice, name=f"payments.{run}-traced-source", team="payments")
    destination = f"clinical.{run}-traced-copy"
    steps.subscription(bob, subscriber="clinical", source=source, account=reader, mode="routed",
                       destination_name=destination)

    producer = TraceContext.new()
    _produce_with_traceparent(kafka.client_config(writer), source["name"], producer)
    (copy,) = kafka.consume(kafka.client_config(reader), destination, group=f"clinical.{run}-traced", expect=1)
    assert copy["value"] == {"id": 1, "ward": "ICU"}
    forwarded = parse_traceparent(copy["headers"]["traceparent"])
    assert forwarded.trace_id == producer.trace_id, "the routed copy left the producer's trace"

    trace = _trace_with(jaeger, producer, f"{source['name']} process", ROUTER)
    routed = trace.one(f"{source['name']} process", ROUTER)
    assert routed.kind == "consumer" and routed.parent_id == producer.span_id, trace.outline()
    # The copy's traceparent names the router's span as its parent: the destination's consumers continue from it.
    assert forwarded.span_id == routed.span_id, trace.outline()


def _produce_with_traceparent(config: dict, topic: str, context: TraceContext) -> None:
    producer = Producer({**config, "acks": "all"})
    errors: list = []
    producer.produce(topic, key=b"1", value=json.dumps({"id": 1, "ward": "ICU"}).encode(),
                     headers=[("traceparent", context.traceparent.encode())],
                     on_delivery=lambda error, _message: errors.append(error) if error else None)
    assert producer.flush(30) == 0 and not errors, errors
