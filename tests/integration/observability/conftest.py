"""Helpers for the observability tests: spans recorded in memory, and /metrics parsed into samples."""

import pytest
from django.test import Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from portal.observability import tracing


@pytest.fixture
def spans():
    """Tracing on in this process, exporting synchronously to memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    tracing.configure_tracing("portal-test", exporter=exporter)
    yield exporter
    tracing.shutdown_tracing()


def scrape(client: Client | None = None, **headers) -> dict[tuple, float]:
    """/metrics as {(sample name, sorted label pairs): value}."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content[:500]
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}
