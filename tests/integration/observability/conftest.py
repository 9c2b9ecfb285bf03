"""Helpers for the observability tests: /metrics parsed into samples."""

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families


def scrape(client: Client | None = None, **headers) -> dict[tuple, float]:
    """/metrics as {(sample name, sorted label pairs): value}."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content[:500]
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}
