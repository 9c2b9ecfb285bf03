"""A real worker process continues the trace of the code that queued its task, and exports over OTLP.

The test process plays the OTLP receiver (HTTP, protobuf) so the worker's spans can be read back.
The worker listens on a queue of its own, so a worker started by another test never takes the task.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from onboarding import queue
from onboarding.models import ResourceStatus
from onboarding.services.topics import topic_create
from onboarding.tasks import reconcile_cluster
from tests.fixtures.waiting import wait_for, wait_for_status
from tests.fixtures.workers import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)
QUEUE = "portal-traced"


class _Receiver(BaseHTTPRequestHandler):
    spans: list = []

    def do_POST(self):  # noqa: N802 - the name http.server calls
        request = ExportTraceServiceRequest.FromString(self.rfile.read(int(self.headers["Content-Length"])))
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend((service, span) for span in scope_spans.spans)
        body = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def otlp_receiver():
    _Receiver.spans = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, _Receiver.spans
    server.shutdown()
    server.server_close()


class TracedWorker(WorkerProcess):
    kind = "worker-traced"

    def command(self):
        command = super().command()
        command[command.index("-Q") + 1] = QUEUE
        return command


@pytest.fixture
def traced_worker(otlp_receiver, monkeypatch):
    port, _ = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # export within a moment, not every 5 s
    worker = TracedWorker()
    worker.start()
    yield worker
    worker.stop()


def test_the_worker_continues_the_publishers_trace_down_to_the_admin_calls(spans, traced_worker, otlp_receiver,
                                                                           cluster, payments, alice, topic_name):
    _, exported = otlp_receiver
    # A queued mark keeps the service from queuing its own task on the shared queue; this test sends it.
    queue._redis().set(queue.QUEUED_KEY.format(cluster_id=cluster.pk), 1, ex=60)
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("worker-traced"),
                         partitions=1, replication_factor=1)
    with trace.get_tracer("test").start_as_current_span("request") as origin:
        reconcile_cluster.apply_async((cluster.pk,), queue=QUEUE)
    wait_for_status(topic, ResourceStatus.READY)

    trace_id = origin.context.trace_id.to_bytes(16, "big")
    (publish,) = [s for s in spans.get_finished_spans() if s.kind.name == "PRODUCER"]

    def worker_spans():
        mine = {span.name: span for service, span in exported if service == "portal-worker"
                and span.trace_id == trace_id}
        return mine if {"run/onboarding.reconcile_cluster", "kafka.admin.create_topics"} <= set(mine) else None

    mine = wait_for(worker_spans, timeout=20, message="the worker's spans at the OTLP receiver")
    run = mine["run/onboarding.reconcile_cluster"]
    assert run.parent_span_id == publish.context.span_id.to_bytes(8, "big")
    assert mine["kafka.admin.create_topics"].parent_span_id == run.span_id
