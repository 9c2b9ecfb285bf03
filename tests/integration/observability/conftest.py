"""Helpers for the observability tests: /metrics parsed into samples."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from onboarding import queue


def scrape(client: Client | None = None, **headers) -> dict[tuple, float]:
    """/metrics as {(sample name, sorted label pairs): value}."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content[:500]
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def reconciles_held(cluster):
    """Changes of ``cluster`` queue no reconcile task (the marks say one is queued already), so a worker
    started by another test never races this test for the rows or for the database flush at its end."""

    keys = [key.format(cluster_id=cluster.pk) for key in (queue.QUEUED_KEY, queue.SCHEMAS_QUEUED_KEY,
                                                          queue.ACCESS_QUEUED_KEY)]
    for key in keys:
        queue._redis().set(key, 1, ex=120)
    yield
    queue._redis().delete(*keys)
