"""Fixtures of the subscription service tests: clinical's topics, payments' reader, scheduled reconciles."""

import pytest

from onboarding.services import subscriptions
from tests.integration.subscriptions.helpers import make_account, make_topic


@pytest.fixture
def clinical_topic(cluster, carol, clinical):
    """``clinical_topic(**fields)``: a topic of clinical (payments is the outsider)."""
    return lambda **fields: make_topic(carol, cluster, clinical, **fields)


@pytest.fixture
def reader(cluster, payments):
    """Payments' service account on the local cluster."""
    return make_account(cluster, payments)


@pytest.fixture
def scheduled(monkeypatch):
    """Cluster ids an access reconcile was scheduled for."""
    calls: list[int] = []
    monkeypatch.setattr(subscriptions, "_schedule", calls.append)
    return calls
