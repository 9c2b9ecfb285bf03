"""The gateway's metrics, its spans, its audited denials and its per-token rate limits, on the real broker.

/metrics is read over HTTP as Prometheus scrapes it; a denial's record is read back from the audit topic and
copied into the portal's audit trail by the worker's ingest (the same function the beat task runs). gRPC is
served on a free port by a loop in a thread, as in test_grpc_publish.py.
"""

import asyncio
import contextlib
import json
import threading
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from onboarding.gateway.app import Gateway
from onboarding.gateway.audit import AuditTopicReader
from onboarding.gateway.grpc_server import gateway_pb2, gateway_pb2_grpc, start_grpc_server
from onboarding.gateway.server import DeliveryProducer
from onboarding.gateway.table import GrantsReader
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.models import AuditEvent
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.registry import Registry
from onboarding.reconcile import gateway_audit
from onboarding.tasks import ingest_gateway_audit
from tests.fixtures.tracing import span_id_of, trace_id_of
from tests.fixtures.waiting import wait_for
from tests.integration.gateway.conftest import read_back, running_gateway

RECORDS = "/v3/clusters/{cluster_id}/topics/{topic}/records"


def records_url(client, topic: str, tail: str = "records") -> str:
    return f"/v3/clusters/{client.cluster_id}/topics/{topic}/{tail}"


def sample(client, name: str, **labels) -> float:
    """One sample of the gateway's /metrics, as Prometheus reads it (0 when the series does not exist yet)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    for family in text_string_to_metric_families(answer.text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(key) == value for key, value in labels.items()):
                return found.value
    return 0.0


@pytest.fixture
def audit_topic(make_topic, settings):
    """A fresh audit topic for the gateway of this test (set before the team's grants give the gateway
    principal its ACLs, which include the audit topic)."""
    settings.GATEWAY_AUDIT_TOPIC = make_topic(f"_portal.gateway-audit-test-{uuid.uuid4().hex[:8]}")
    return settings.GATEWAY_AUDIT_TOPIC


def test_metrics_count_a_produce_and_a_denial(audit_topic, team, make_topic):
    topic = make_topic(f"payments.observed-{uuid.uuid4().hex[:8]}")
    with running_gateway(team.grants_topic) as gateway:
        delivered = {"topic": topic, "outcome": "delivered"}
        produced = sample(gateway, "portal_gateway_records_produced_total", **delivered)
        answered = sample(gateway, "portal_gateway_requests_total", protocol="rest", route=RECORDS, method="POST",
                          status="200")
        wrong = {"protocol": "rest", "action": "authenticate", "outcome": "denied", "reason": "wrong_secret"}
        denied = sample(gateway, "portal_gateway_grant_decisions_total", **wrong)
        allowed = sample(gateway, "portal_gateway_grant_decisions_total", protocol="rest", action="produce",
                         outcome="allowed", reason="ok")

        answer = gateway.post(records_url(gateway, topic), headers=team.headers, json={"value": {"data": {"n": 1}}})
        assert answer.status_code == 200, answer.text
        bad_token = f"{team.bearer.rsplit('_', 1)[0]}_not-the-secret"
        refused = gateway.post(records_url(gateway, topic), headers={"Authorization": f"Bearer {bad_token}"},
                               json={"value": {"data": {"n": 2}}})
        assert refused.status_code == 401

        assert sample(gateway, "portal_gateway_records_produced_total", **delivered) == produced + 1
        assert sample(gateway, "portal_gateway_requests_total", protocol="rest", route=RECORDS, method="POST",
                      status="200") == answered + 1
        assert sample(gateway, "portal_gateway_grant_decisions_total", **wrong) == denied + 1
        assert sample(gateway, "portal_gateway_grant_decisions_total", protocol="rest", action="produce",
                      outcome="allowed", reason="ok") == allowed + 1
        assert sample(gateway, "portal_gateway_request_duration_seconds_count", protocol="rest", route=RECORDS,
                      method="POST") >= 2
        assert sample(gateway, "portal_gateway_received_bytes_total", protocol="rest") > 0
        # No label holds the token or the raw path: a caller cannot mint series.
        assert team.key_id not in gateway.get("/metrics").text


def test_a_produce_request_is_a_server_span_of_the_callers_trace_with_the_records_producer_span_beneath(
        spans, team, make_topic):
    topic = make_topic(f"payments.traced-{uuid.uuid4().hex[:8]}")
    trace_id, caller = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    with running_gateway(team.grants_topic) as gateway:
        assert gateway.get("/healthz").status_code == 200
        answer = gateway.post(records_url(gateway, topic), headers={**team.headers, "X-Request-ID": "traced-1",
                                                                    "traceparent": f"00-{trace_id}-{caller}-01"},
                              json={"value": {"data": {"n": 1}}})
        assert answer.status_code == 200, answer.text

    finished = spans.get_finished_spans()
    (server,) = [s for s in finished if s.kind == SpanKind.SERVER]  # the probe made none
    assert server.name == f"POST {RECORDS}" and trace_id_of(server) == trace_id
    assert server.parent is not None and span_id_of(server.parent) == caller
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["http.request.header.x-request-id"] == ("traced-1",)
    (publish,) = [s for s in finished if s.name == f"{topic} publish"]
    assert publish.kind == SpanKind.PRODUCER and publish.parent.span_id == server.context.span_id
    (record,) = read_back(topic, 0, answer.json()["offset"])
    assert dict(record.headers())["traceparent"] == f"00-{trace_id}-{span_id_of(publish)}-01".encode()


def _audit_records(topic: str, request_id: str) -> list:
    reader = AuditTopicReader(default_kafka_connection(), topic=topic, group=f"test-{uuid.uuid4().hex}")
    try:
        return [denial for denial in reader.read() if denial.request_id == request_id]
    finally:
        reader.close()


@pytest.mark.django_db
def test_a_denial_is_audited_with_its_request_id_and_ingested_into_the_audit_trail(audit_topic, team, caplog,
                                                                                   settings):
    request_id = f"audit-test-{uuid.uuid4().hex}"
    with running_gateway(team.grants_topic) as gateway:
        answer = gateway.post(records_url(gateway, "orders.placed"), headers={**team.headers,
                                                                              "X-Request-ID": request_id},
                              json={"value": {"data": {"n": 1}}})
        assert answer.status_code == 403 and answer.headers["x-request-id"] == request_id
        logged = [record for record in caplog.records if record.name == "onboarding.gateway.audit"]
        assert [record.audit["reason"] for record in logged if record.audit["request_id"] == request_id] == [
            "not_granted"]
        assert request_id in logged[-1].getMessage()
        found = wait_for(lambda: _audit_records(audit_topic, request_id), timeout=30,
                         message=f"the audit record of {request_id}")
    denial = found[0]
    assert (denial.protocol, denial.action, denial.reason, denial.status) == ("rest", "produce", "not_granted", "403")
    assert (denial.key_id, denial.principal, denial.team, denial.topic) == (
        team.key_id, team.grant.principal, "payments", "orders.placed")

    settings.GATEWAY_AUDIT_GROUP = group = f"test-ingest-{uuid.uuid4().hex[:8]}"
    assert ingest_gateway_audit.apply().get() == {"read": 1, "stored": 1, "caught_up": True}  # beat's task
    stored = AuditEvent.objects.get(action="gateway.denied", request_id=request_id)
    assert (stored.actor_name, stored.via, stored.resource_id, stored.resource_name) == (
        team.grant.principal, "system", team.key_id, "orders.placed")
    assert stored.after["reason"] == "not_granted" and stored.after["at"] == denial.at
    assert "not_granted" in stored.note

    # Idempotent: the group's committed offsets skip it, and a reader from the start stores nothing twice.
    assert gateway_audit.ingest(topic=audit_topic, group=group).read == 0
    assert gateway_audit.ingest(topic=audit_topic, group=f"{group}-again").stored == 0
    assert AuditEvent.objects.filter(action="gateway.denied", request_id=request_id).count() == 1


def test_a_token_over_its_records_limit_gets_429_with_retry_after(audit_topic, team, make_topic, settings):
    settings.GATEWAY_TOKEN_RECORDS_PER_SECOND = 1
    settings.GATEWAY_TOKEN_BURST = 2
    topic = make_topic(f"payments.limited-{uuid.uuid4().hex[:8]}")
    with running_gateway(team.grants_topic) as gateway:
        limited = sample(gateway, "portal_gateway_rate_limited_total", protocol="rest", limit="records")
        # From a full bucket a batch may exceed the burst; the 8 records over it are paid back at 1 a second.
        batch = gateway.post(records_url(gateway, topic, "records:batch"), headers=team.headers,
                             json={"entries": [{"id": str(n), "value": {"data": {"n": n}}} for n in range(10)]})
        assert batch.status_code == 207 and len(batch.json()["successes"]) == 10, batch.text

        answer = gateway.post(records_url(gateway, topic), headers=team.headers, json={"value": {"data": {"n": 10}}})
        assert answer.status_code == 429, answer.text
        assert answer.json()["error_code"] == 42902
        assert int(answer.headers["Retry-After"]) >= 1
        assert sample(gateway, "portal_gateway_rate_limited_total", protocol="rest", limit="records") == limited + 1

        # A chunked stream goes on: each record over the limit is answered by its own 42902 report.
        def chunks():
            for n in range(3):
                yield json.dumps({"value": {"data": {"n": n}}}).encode()

        streamed = gateway.post(records_url(gateway, topic), headers=team.headers, content=chunks())
        assert streamed.status_code == 200
        assert [json.loads(line)["error_code"] for line in streamed.text.splitlines()] == [42902, 42902, 42902]

        # The records limit is not the requests limit: the token still reads the cluster.
        assert gateway.get("/v3/clusters", headers=team.headers).status_code == 200


def test_the_openapi_document_is_served_without_a_token(audit_topic, team):
    with running_gateway(team.grants_topic) as gateway:
        answer = gateway.get("/openapi.json")
        assert answer.status_code == 200
        document = json.loads(answer.text)
        assert document["openapi"].startswith("3.") and RECORDS.replace("{topic}", "{topic}") in document["paths"]
        assert gateway.get("/docs").status_code == 200


# ---------------------------------------------------------------------------------------------------- gRPC
@contextlib.contextmanager
def grpc_gateway(grants_topic: str):
    """The gRPC gateway on a free port, served by a loop in a thread of this process; a client channel to it."""
    config = default_kafka_connection().client_config()
    reader = GrantsReader(topic=grants_topic, kafka_config=config)
    reader.start()
    producer = DeliveryProducer(kafka_config=config)
    producer.start()
    registry = Registry()
    gateway = Gateway(grants=reader.table, producer=producer, schemas=RegistrySchemas(registry))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="grpc-observability-test", daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start_grpc_server(gateway, host="127.0.0.1", port=0), loop).result(30)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            yield gateway_pb2_grpc.EventGatewayStub(channel)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(5), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        producer.close(timeout=10)
        reader.stop()
        registry.close()


def _publish(stub, topic: str, n: int, metadata) -> tuple:
    request = gateway_pb2.PublishRequest(topic=topic, records=[
        gateway_pb2.Record(value=gateway_pb2.Data(json=json.dumps({"n": i}))) for i in range(n)])
    return stub.Publish.with_call(request, metadata=metadata, timeout=30)


def test_grpc_answers_a_limit_with_retry_info_and_audits_a_denial_with_its_request_id(audit_topic, team, make_topic,
                                                                                      settings):
    settings.GATEWAY_TOKEN_RECORDS_PER_SECOND = 1
    settings.GATEWAY_TOKEN_BURST = 2
    topic = make_topic(f"payments.grpc-limited-{uuid.uuid4().hex[:8]}")
    exhausted = {"protocol": "grpc", "route": "portal.gateway.v1.EventGateway", "method": "Publish",
                 "status": "RESOURCE_EXHAUSTED"}
    before = REGISTRY.get_sample_value("portal_gateway_requests_total", exhausted) or 0
    with grpc_gateway(team.grants_topic) as stub:
        delivered = {"topic": topic, "outcome": "delivered"}
        answer, call = _publish(stub, topic, 10, team.metadata)  # more than the burst, from a full bucket
        assert len(answer.results) == 10 and all(result.HasField("delivery") for result in answer.results)
        assert REGISTRY.get_sample_value("portal_gateway_records_produced_total", delivered) == 10
        assert dict(call.trailing_metadata())["x-request-id"]  # a new id when the caller sends none

        request_id = f"grpc-limit-{uuid.uuid4().hex}"
        with pytest.raises(grpc.RpcError) as refused:
            _publish(stub, topic, 1, (*team.metadata, ("x-request-id", request_id)))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert dict(refused.value.trailing_metadata())["x-request-id"] == request_id
        retry = error_details_pb2.RetryInfo()
        details = rpc_status.from_call(refused.value).details
        assert [detail.Unpack(retry) for detail in details] == [True] and retry.retry_delay.seconds >= 1
        # The server counts a call as its handler returns, which may be just after the client has its answer.
        wait_for(lambda: REGISTRY.get_sample_value("portal_gateway_requests_total", exhausted) == before + 1,
                 timeout=10, message="the refused call to be counted")

        denied_id = f"grpc-denied-{uuid.uuid4().hex}"
        with pytest.raises(grpc.RpcError) as unauthenticated:
            _publish(stub, topic, 1, (("authorization", "Bearer pep_nosuchkey_secret"), ("x-request-id", denied_id)))
        assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert dict(unauthenticated.value.trailing_metadata())["x-request-id"] == denied_id
        denial = wait_for(lambda: _audit_records(audit_topic, denied_id), timeout=30,
                          message=f"the audit record of {denied_id}")[0]
    assert (denial.protocol, denial.route, denial.action, denial.reason, denial.key_id, denial.status) == (
        "grpc", "portal.gateway.v1.EventGateway/Publish", "authenticate", "unknown_token", "nosuchkey",
        "UNAUTHENTICATED")
