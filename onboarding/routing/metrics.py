"""The router process's Prometheus metrics, served on ROUTER_METRICS_PORT by prometheus_client's HTTP server.

Counters count committed work only (what the Redis traffic totals count too), so a batch that is aborted
and redone is counted once. Lag is what is left to read on the partitions this process owns, refreshed
every few seconds between batches (one watermark request per partition).
"""

from __future__ import annotations

import logging
import time

from confluent_kafka import KafkaException, TopicPartition
from prometheus_client import Counter, Gauge, Histogram, start_http_server

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


def serve(port: int, address: str = "0.0.0.0"):
    """Start the /metrics HTTP server in a daemon thread; returns the server (its port, when 0 was asked)."""
    server, _thread = start_http_server(port, addr=address)
    log.info("router metrics on %s:%d/metrics", address, server.server_port)
    return server


def record_batch(batch, counts, seconds: float) -> None:
    """Count one committed batch: its records per topic, its outcomes per subscription, its duration."""
    per_topic: dict[str, int] = {}
    for message in batch:
        per_topic[message.topic()] = per_topic.get(message.topic(), 0) + 1
    for topic, n in per_topic.items():
        CONSUMED.labels(topic).inc(n)
    for subscription, counter in counts.items():
        for outcome, n in counter.items():
            if n:
                EVENTS.labels(subscription, outcome).inc(n)
    BATCH_SECONDS.observe(seconds)


class LagTracker:
    """Refreshes the lag gauge from the consumer's positions and the partitions' high watermarks."""

    def __init__(self, group: str):
        self.group = group
        self._refreshed_at = 0.0
        self._shown: set[tuple[str, str]] = set()

    def maybe_refresh(self, consumer) -> None:
        if time.monotonic() - self._refreshed_at < LAG_REFRESH_SECONDS:
            return
        self._refreshed_at = time.monotonic()
        try:
            self.refresh(consumer)
        except KafkaException as exc:  # metrics never stop routing
            log.warning("router lag not refreshed: %s", exc)

    def refresh(self, consumer) -> None:
        assigned = consumer.assignment()
        shown = set()
        if assigned:
            positions = consumer.position([TopicPartition(tp.topic, tp.partition) for tp in assigned])
            for tp in positions:
                _low, high = consumer.get_watermark_offsets(tp, timeout=5, cached=False)
                # No position yet (nothing read since the assignment): the committed offset is where it starts.
                lag = high - tp.offset if tp.offset >= 0 else None
                if lag is not None:
                    LAG.labels(self.group, tp.topic, str(tp.partition)).set(max(0, lag))
                    shown.add((tp.topic, str(tp.partition)))
        for topic, partition in self._shown - shown:  # partitions that went to another router
            LAG.remove(self.group, topic, partition)
        self._shown = shown
