"""Traces across the real processes, read back from the stack's Jaeger: an API request down to the worker's Kafka
admin call, a produced event through the router to its destination, and an event published over the gateway's
REST API through the mapper into its canonical topic.

Each journey sends its own W3C traceparent (as a caller's tracing would), so the trace is found by its id. The
acceptance stack's processes export to Jaeger over OTLP (stack.py); the conftest runs these journeys last.
"""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Producer

from tests.acceptance import kafka, steps
from tests.acceptance.gateway_rest import team_gateway
from tests.fixtures.jaeger import (
    START_TIMEOUT_SECONDS,
    TraceContext,
    ensure_running,
    fetch_trace,
    parse_traceparent,
)
from tests.fixtures.waiting import wait_for

WEB, WORKER, ROUTER = "portal-web", "portal-worker", "portal-router"
GATEWAY, MAPPER = "portal-gateway", "portal-mapper"
RECORDS_ROUTE = "POST /v3/clusters/{cluster_id}/topics/{topic}/records"
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


ADMISSION = {"type": "record", "name": "TracedAdmission", "namespace": "clinical.traced", "fields": [
    {"name": "pid", "type": "string"}, {"name": "ward", "type": "string"}]}
PATIENT = {"type": "record", "name": "TracedPatient", "namespace": "std.traced", "fields": [
    {"name": "id", "type": "string"}, {"name": "ward", "type": "string"}]}


def test_an_event_published_over_the_gateway_is_one_trace_through_the_mapper_to_its_canonical_topic(
        jaeger, as_user, run, stack):
    operator, bob = as_user("operator"), as_user("bob")
    answer = operator.post("teams/", {"slug": "std", "name": "Data governance", "contacts": "std@example.org"})
    assert answer.status_code in (201, 400), answer.text  # 400: an earlier journey of this run made it
    canonical = steps.topic(operator, name=f"std.{run}-traced-patient", team="std")
    _value_schema(operator, canonical, PATIENT)
    operator.created("canonical-topics/", {"cluster": "local", "topic": canonical["name"],
                                          "description": "A patient, traced"})
    governance = kafka.client_config(steps.service_account(operator, team="std", name=f"{run}-traced-std"))
    source = steps.topic(bob, name=f"clinical.{run}-traced-admissions", team="clinical")
    _value_schema(bob, source, ADMISSION)
    mapping = bob.created("mappings/", {
        "team": "clinical", "cluster": "local", "name": f"{run}-traced", "source_topic": source["name"],
        "canonical_topic": canonical["name"], "rules": [
            {"target": "id", "sources": ["pid"], "fn": "rename", "args": {}},
            {"target": "ward", "sources": ["ward"], "fn": "rename", "args": {}}]})
    bob.wait_status(f"mappings/{mapping['id']}/", timeout=120)
    gateway = team_gateway(bob, stack.gateway_url, team="clinical", name=f"{run} traced admissions")

    caller = TraceContext.new()
    published = gateway.produce(source["name"], {"key": {"type": "STRING", "data": "p-1"},
                                                 "value": {"type": "AVRO", "data": {"pid": "p-1", "ward": "ICU"}}},
                                headers={"traceparent": caller.traceparent})
    assert published.status_code == 200 and published.json()["error_code"] == 200, published.text
    (output,) = wait_for(lambda: [r for r in kafka.read_to_end(governance, canonical["name"],
                                                                group=f"std.{run}-traced-read")
                                  if r["key"] == b"p-1"] or None,
                         timeout=60, message=f"the mapped event in {canonical['name']}")
    headers = {name: (value or b"").decode() for name, value in output["headers"]}
    forwarded = parse_traceparent(headers["traceparent"])
    assert forwarded.trace_id == caller.trace_id, "the canonical event left the caller's trace"

    # The gateway and the mapper export on their own: the trace is whole once both processes' spans are in.
    _trace_with(jaeger, caller, f"{source['name']} process", MAPPER)
    trace = _trace_with(jaeger, caller, RECORDS_ROUTE, GATEWAY)
    server = trace.one(RECORDS_ROUTE, GATEWAY)
    assert server.kind == "server" and server.parent_id == caller.span_id, trace.outline()
    publish = trace.one(f"{source['name']} publish", GATEWAY)
    assert publish.kind == "producer" and publish.parent_id == server.span_id, trace.outline()
    mapped = trace.one(f"{source['name']} process", MAPPER)
    assert mapped.kind == "consumer" and mapped.parent_id == publish.span_id, trace.outline()
    # The canonical event's traceparent names the mapper's span: its readers continue the trace from there.
    assert forwarded.span_id == mapped.span_id, trace.outline()


def _value_schema(api, topic: dict, document: dict) -> dict:
    created = api.created("schemas/", {"topic": topic["id"], "side": "value", "format": "AVRO",
                                       "schema": json.dumps(document)})
    return api.wait_status(f"schemas/{created['id']}/")


def _produce_with_traceparent(config: dict, topic: str, context: TraceContext) -> None:
    producer = Producer({**config, "acks": "all"})
    errors: list = []
    producer.produce(topic, key=b"1", value=json.dumps({"id": 1, "ward": "ICU"}).encode(),
                     headers=[("traceparent", context.traceparent.encode())],
                     on_delivery=lambda error, _message: errors.append(error) if error else None)
    assert producer.flush(30) == 0 and not errors, errors
