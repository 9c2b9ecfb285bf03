"""The router process's Prometheus metrics, served on ROUTER_METRICS_PORT with its liveness probe (/healthz).

Counters count committed work only (what the Redis traffic totals count too), so a batch that is aborted
and redone is counted once. Lag is what is left to read on the partitions this process owns, refreshed
every few seconds between batches (from the high watermarks the consumer's fetches bring back).
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from confluent_kafka import KafkaException, TopicPartition
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from onboarding.routing.liveness import LIVENESS, Liveness

log = logging.getLogger(__name__)

CONSUMED = Counter("portal_router_records_consumed", "Source records the router handled in committed batches.",
                   ["topic"])
EVENTS = Counter("portal_router_events", "Events per routed subscription and outcome (routed, filtered_out, "
                 "dead_lettered, dropped), in committed batches.", ["subscription", "outcome"])
BATCH_SECONDS = Histogram("portal_router_batch_duration_seconds", "Time to route and commit one batch.",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
ABORTED = Counter("portal_router_batches_aborted", "Batches aborted and rewound (to be redone).", ["reason"])
LAG = Gauge("portal_router_consumer_lag", "Records of the source partitions this router owns that it has not "
            "read yet (high watermark minus position; after a committed batch the position is the committed offset).",
            ["group", "topic", "partition"])

LAG_REFRESH_SECONDS = 5.0


def serve(port: int, address: str = "0.0.0.0", *, liveness: Liveness = LIVENESS, what: str = "router"):
    """Start the HTTP server of /metrics and the liveness probe /healthz (answered from ``liveness``) in a daemon
    thread; returns the server (its port, when 0 was asked)."""
    handler = type("Handler", (_Handler,), {"liveness": liveness})
    server = ThreadingHTTPServer((address, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"{what}-metrics", daemon=True).start()
    log.info("%s metrics on %s:%d/metrics, liveness on /healthz", what, address, server.server_port)
    return server


class _Handler(BaseHTTPRequestHandler):
    liveness: Liveness = LIVENESS

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        if self.path.split("?")[0] == "/healthz":
            problem = self.liveness.problem()
            status, body, kind = (503, f"stuck: {problem}\n", "text/plain") if problem else (200, "ok\n", "text/plain")
            body = body.encode()
        else:
            status, body, kind = 200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature); probes every few seconds
        pass


def record_batch(batch, seconds: float) -> None:
    """Count one committed batch: its records per topic, its duration."""
    per_topic: dict[str, int] = {}
    for message in batch:
        per_topic[message.topic()] = per_topic.get(message.topic(), 0) + 1
    for topic, n in per_topic.items():
        CONSUMED.labels(topic).inc(n)
    BATCH_SECONDS.observe(seconds)


def record_events(counts) -> None:
    """Count committed outcomes per subscription (the router publishes them after one or several batches)."""
    for subscription, counter in counts.items():
        for outcome, n in counter.items():
            if n:
                EVENTS.labels(subscription, outcome).inc(n)


class LagTracker:
    """Refreshes the lag gauge from the consumer's positions and the partitions' high watermarks."""

    def __init__(self, group: str, gauge: Gauge = LAG):
        self.group = group
        self.gauge = gauge  # labelled group, topic, partition (the mapper has its own)
        self._refreshed_at = 0.0
        self._shown: set[tuple[str, str]] = set()

    def maybe_refresh(self, consumer) -> None:
        if time.monotonic() - self._refreshed_at < LAG_REFRESH_SECONDS:
            return
        self._refreshed_at = time.monotonic()
        try:
            self.refresh(consumer)
        except KafkaException as exc:  # metrics never stop routing
            log.warning("lag not refreshed: %s", exc)

    def refresh(self, consumer) -> None:
        assigned = consumer.assignment()
        shown = set()
        if assigned:
            positions = consumer.position([TopicPartition(tp.topic, tp.partition) for tp in assigned])
            for tp in positions:
                # The high watermark of the consumer's last fetch response, not a request per partition: those
                # block the loop (half a second each on a busy broker) while a fetch brings it anyway.
                _low, high = consumer.get_watermark_offsets(tp, cached=True)
                # No position yet (nothing read since the assignment): the committed offset is where it starts;
                # no fetch answered yet: nothing known.
                lag = high - tp.offset if tp.offset >= 0 and high >= 0 else None
                if lag is not None:
                    self.gauge.labels(self.group, tp.topic, str(tp.partition)).set(max(0, lag))
                    shown.add((tp.topic, str(tp.partition)))
        for topic, partition in self._shown - shown:  # partitions that went to another router
            self.gauge.remove(self.group, topic, partition)
        self._shown = shown
