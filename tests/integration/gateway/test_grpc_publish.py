"""The gateway's gRPC API on the real broker and registry: a team token publishes through EventGateway.

The grpc.aio server runs in-process on a free port, on its own event loop in a thread, with its real parts: the
grants reader following a per-test grants topic, the shared idempotent producer, the registry's schema cache.
The client is a plain grpc channel; records are read back with a confluent-kafka consumer.
"""

import asyncio
import json
import threading
import uuid

import grpc
import pytest
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings
from google.rpc import code_pb2, error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from opentelemetry.trace import SpanKind, StatusCode

from onboarding.gateway.app import Gateway
from onboarding.gateway.grpc_server import gateway_pb2, gateway_pb2_grpc, start_grpc_server
from onboarding.gateway.server import DeliveryProducer
from onboarding.gateway.table import GrantsReader
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.registry import Registry
from tests.fixtures.tracing import span_id_of, trace_id_of
from tests.integration.gateway.conftest import read_back

ORDER = {"type": "record", "name": "Order", "namespace": "gateway.grpc",
         "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "long"}]}


@pytest.fixture
def channel(team):
    """A client channel to the gRPC gateway, served on a free port by a loop in a thread of this process."""
    config = default_kafka_connection().client_config()
    reader = GrantsReader(topic=team.grants_topic, kafka_config=config)
    reader.start()
    producer = DeliveryProducer(kafka_config=config)
    producer.start()
    registry = Registry()
    gateway = Gateway(grants=reader.table, producer=producer, schemas=RegistrySchemas(registry))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="grpc-gateway-test", daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(start_grpc_server(gateway, host="127.0.0.1", port=0), loop).result(30)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as client:
            yield client
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(5), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        producer.close(timeout=10)
        reader.stop()
        registry.close()


def end_offsets(topic: str, partitions: int = 1) -> list[int]:
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": uuid.uuid4().hex})
    try:
        return [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)]
    finally:
        consumer.close()


def avro(data: dict, **schema) -> gateway_pb2.Data:
    return gateway_pb2.Data(schema=gateway_pb2.SchemaData(type=gateway_pb2.SchemaData.AVRO, data=json.dumps(data),
                                                          **schema))


def test_publish_json_and_avro_records_then_read_them_back(channel, team, make_topic, registry,
                                                           registry_subjects):
    topic = make_topic(f"payments.grpc-{uuid.uuid4().hex[:8]}")
    registry_subjects.append(f"{topic}-value")
    schema_id = registry.register(f"{topic}-value", ORDER, schemaType="AVRO")
    stub = gateway_pb2_grpc.EventGatewayStub(channel)

    answer = stub.Publish(gateway_pb2.PublishRequest(topic=topic, records=[
        gateway_pb2.Record(key=gateway_pb2.Data(string="o-1"), value=gateway_pb2.Data(json='{"id": "o-1", "n": 1}'),
                           headers=[gateway_pb2.Header(name="origin", value=b"grpc")]),
        gateway_pb2.Record(key=gateway_pb2.Data(string="o-2"), value=avro({"id": "o-2", "amount": 10})),
    ]), metadata=team.metadata, timeout=30)

    assert [result.WhichOneof("outcome") for result in answer.results] == ["delivery", "delivery"]
    assert [result.sequence for result in answer.results] == [0, 1]
    first, second = (result.delivery for result in answer.results)
    assert second.offset == first.offset + 1 and first.timestamp.ToMilliseconds() > 0
    json_record, avro_record = read_back(topic, first.partition, first.offset, count=2)
    assert (json_record.key(), json.loads(json_record.value())) == (b"o-1", {"id": "o-1", "n": 1})
    assert ("origin", b"grpc") in json_record.headers()
    assert avro_record.key() == b"o-2"
    assert avro_record.value()[:5] == b"\x00" + schema_id.to_bytes(4, "big")  # the Confluent wire format


def test_a_bad_avro_record_fails_the_whole_batch_with_its_field_violation(channel, team, make_topic, registry,
                                                                          registry_subjects):
    topic = make_topic(f"payments.grpc-bad-{uuid.uuid4().hex[:8]}")
    registry_subjects.append(f"{topic}-value")
    registry.register(f"{topic}-value", ORDER, schemaType="AVRO")
    stub = gateway_pb2_grpc.EventGatewayStub(channel)

    with pytest.raises(grpc.RpcError) as refused:
        stub.Publish(gateway_pb2.PublishRequest(topic=topic, records=[
            gateway_pb2.Record(value=avro({"id": "o-1", "amount": 10})),
            gateway_pb2.Record(value=avro({"id": "o-2", "amount": "ten"})),
        ]), metadata=team.metadata, timeout=30)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(refused.value)
    assert status.code == code_pb2.INVALID_ARGUMENT
    [detail] = status.details
    violations = error_details_pb2.BadRequest()
    assert detail.Unpack(violations)
    fields = [violation.field for violation in violations.field_violations]
    assert any(field.startswith("records[1].value.data.amount") for field in fields), fields
    assert not any(field.startswith("records[0]") for field in fields), fields
    assert end_offsets(topic) == [0]  # the valid first record was not produced either


def test_a_wrong_token_is_unauthenticated(channel, team, make_topic):
    topic = make_topic(f"payments.grpc-auth-{uuid.uuid4().hex[:8]}")
    stub = gateway_pb2_grpc.EventGatewayStub(channel)
    request = gateway_pb2.PublishRequest(topic=topic, records=[gateway_pb2.Record(value=gateway_pb2.Data(json="1"))])
    for metadata in ((), (("authorization", f"Bearer pep_{team.key_id}_wrong-secret"),),
                     (("authorization", "Basic dXNlcjpwYXNz"),)):
        with pytest.raises(grpc.RpcError) as refused:
            stub.Publish(request, metadata=metadata, timeout=30)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert end_offsets(topic) == [0]


def test_another_teams_topic_is_permission_denied(channel, team, make_topic):
    others = make_topic(f"billing.grpc-{uuid.uuid4().hex[:8]}")
    stub = gateway_pb2_grpc.EventGatewayStub(channel)

    with pytest.raises(grpc.RpcError) as refused:
        stub.Publish(gateway_pb2.PublishRequest(topic=others, records=[
            gateway_pb2.Record(value=gateway_pb2.Data(json="1"))]), metadata=team.metadata, timeout=30)

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert end_offsets(others) == [0]


def test_publish_stream_acknowledges_every_record_in_order(channel, team, make_topic):
    topic = make_topic(f"payments.grpc-stream-{uuid.uuid4().hex[:8]}", partitions=3)
    stub = gateway_pb2_grpc.EventGatewayStub(channel)

    def requests():
        for batch in range(20):  # 20 requests of 10 records: 200 records, keyed across the partitions
            yield gateway_pb2.PublishRequest(topic=topic, records=[
                gateway_pb2.Record(key=gateway_pb2.Data(string=f"k-{n % 7}"),
                                   value=gateway_pb2.Data(json=json.dumps({"n": batch * 10 + n})))
                for n in range(10)])

    results = list(stub.PublishStream(requests(), metadata=team.metadata, timeout=60))

    assert [result.sequence for result in results] == list(range(200))
    assert all(result.WhichOneof("outcome") == "delivery" for result in results), \
        [result.error for result in results if result.HasField("error")][:3]
    by_partition: dict[int, list[int]] = {}
    for result in results:
        by_partition.setdefault(result.delivery.partition, []).append(result.delivery.offset)
    for offsets in by_partition.values():
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert sum(end_offsets(topic, 3)) == 200
    partition, offsets = next(iter(by_partition.items()))
    produced = read_back(topic, partition, offsets[0], count=len(offsets))
    sent = [json.loads(message.value())["n"] for message in produced]
    assert sent == sorted(sent)  # a partition holds its records in the order they were sent


def test_a_call_is_a_server_span_of_the_callers_trace_with_its_records_producer_spans_beneath(
        spans, channel, team, make_topic):
    topic = make_topic(f"payments.grpc-traced-{uuid.uuid4().hex[:8]}")
    stub = gateway_pb2_grpc.EventGatewayStub(channel)
    trace_id, caller = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    traced = (*team.metadata, ("traceparent", f"00-{trace_id}-{caller}-01"), ("x-request-id", "grpc-traced-1"))
    record = gateway_pb2.Record(value=gateway_pb2.Data(json='{"n": 1}'))

    answer = stub.Publish(gateway_pb2.PublishRequest(topic=topic, records=[record]), metadata=traced, timeout=30)
    streamed = list(stub.PublishStream(iter([gateway_pb2.PublishRequest(topic=topic, records=[record])] * 2),
                                       metadata=team.metadata, timeout=30))
    with pytest.raises(grpc.RpcError):
        stub.Publish(gateway_pb2.PublishRequest(topic=topic, records=[record]), metadata=(), timeout=30)
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=30)

    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert [r.WhichOneof("outcome") for r in [*answer.results, *streamed]] == ["delivery"] * 3
    finished = spans.get_finished_spans()
    servers = {span.name: span for span in finished if span.kind == SpanKind.SERVER}
    assert set(servers) == {"portal.gateway.v1.EventGateway/Publish", "portal.gateway.v1.EventGateway/PublishStream"}
    unary = [s for s in finished if s.name == "portal.gateway.v1.EventGateway/Publish"]
    assert len(unary) == 2  # the health check made none
    traced_call = next(s for s in unary if trace_id_of(s) == trace_id)
    refused = next(s for s in unary if s is not traced_call)
    assert span_id_of(traced_call.parent) == caller
    assert traced_call.attributes["rpc.system"] == "grpc" and traced_call.attributes["rpc.grpc.status_code"] == 0
    assert traced_call.attributes["rpc.request.metadata.x-request-id"] == ("grpc-traced-1",)
    # A refused caller is the caller's fault, not the server's: a code on the span, no error status.
    assert refused.attributes["rpc.grpc.status_code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert refused.status.status_code != StatusCode.ERROR and trace_id_of(refused) != trace_id
    publishes = [s for s in finished if s.name == f"{topic} publish"]
    assert len(publishes) == 3 and all(s.kind == SpanKind.PRODUCER for s in publishes)
    (beneath_call,) = [s for s in publishes if s.parent.span_id == traced_call.context.span_id]
    stream = servers["portal.gateway.v1.EventGateway/PublishStream"]
    assert [s.parent.span_id for s in publishes if s is not beneath_call] == [stream.context.span_id] * 2
    (produced,) = read_back(topic, answer.results[0].delivery.partition, answer.results[0].delivery.offset)
    assert dict(produced.headers())["traceparent"] == f"00-{trace_id}-{span_id_of(beneath_call)}-01".encode()


def test_reflection_lists_the_gateway_and_health_answers_serving(channel):
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    [answer] = list(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                    timeout=30))
    services = {service.name for service in answer.list_services_response.service}
    assert {"portal.gateway.v1.EventGateway", "grpc.health.v1.Health"} <= services

    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "portal.gateway.v1.EventGateway"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
