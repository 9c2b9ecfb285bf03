"""Fixtures of the aggregation tests: payments' topics, clinical's (an outsider's) topics, queued runs."""

import pytest

from tests.integration.subscriptions.helpers import make_account, make_topic


@pytest.fixture
def payments_topic(cluster, alice, payments):
    """``payments_topic(**fields)``: a topic of payments."""
    return lambda **fields: make_topic(alice, cluster, payments, **fields)


@pytest.fixture
def clinical_topic(cluster, carol, clinical):
    """``clinical_topic(**fields)``: a topic of clinical (payments is the outsider)."""
    return lambda **fields: make_topic(carol, cluster, clinical, **fields)


@pytest.fixture
def reader(cluster, payments):
    return make_account(cluster, payments)
