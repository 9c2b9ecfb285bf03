"""The mapper's Prometheus metrics and liveness, served on MAPPER_METRICS_PORT by the router's metrics server
(``routing.metrics.serve``: /metrics and /healthz).

Counters count committed work only, so a batch that is aborted and redone is counted once.
"""

from __future__ import annotations

from collections import Counter as Counts

from prometheus_client import Counter, Gauge, Histogram

from onboarding.routing.liveness import Liveness

EVENTS = Counter("portal_mapper_events", "Events per mapping, version and outcome (mapped, failed: dead-lettered, "
                 "dropped: failed with no dead-letter topic), in committed batches.", ["mapping", "version", "outcome"])
BATCH_SECONDS = Histogram("portal_mapper_batch_duration_seconds", "Time to map and commit one batch.",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
ABORTED = Counter("portal_mapper_batches_aborted", "Batches aborted and rewound (to be redone).", ["reason"])
LAG = Gauge("portal_mapper_consumer_lag", "Records of the source partitions this mapper owns that it has not read "
            "yet (high watermark minus position).", ["group", "topic", "partition"])

# One mapper loop per process: its /healthz reads the object the loop writes.
LIVENESS = Liveness("MAPPER_LIVENESS_SECONDS")


def record(counts: dict[tuple[str, int], Counts], seconds: float) -> None:
    """Count one committed batch: its outcomes per (mapping, version), its duration."""
    for (mapping, version), counter in counts.items():
        for outcome, n in counter.items():
            if n:
                EVENTS.labels(mapping, str(version), outcome).inc(n)
    BATCH_SECONDS.observe(seconds)
