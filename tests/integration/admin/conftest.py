"""The operator's browser session and topics in the states the admin acts on."""

import pytest
from django.utils import timezone

from onboarding.models import ResourceStatus, Topic
from tests.fixtures.actors import PASSWORD


@pytest.fixture
def operator_client(client, operator):
    """olivia, logged in through the password form's backend like a person would."""
    assert client.login(username=operator.username, password=PASSWORD)
    return client


def make_topic(cluster, team, name="payments.orders", **fields):
    """A topic row as the reconciler would have left it (no Kafka involved)."""
    defaults = {"partitions": 3, "replication_factor": 1, "configs": {"retention.ms": "604800000"},
                "status": ResourceStatus.READY, "generation": 2, "observed_generation": 2,
                "ready_at": timezone.now()}
    return Topic.objects.create(cluster=cluster, team=team, name=name, **{**defaults, **fields})


@pytest.fixture
def ready_topic(cluster, payments):
    return make_topic(cluster, payments)


@pytest.fixture
def drifted_topic(cluster, payments):
    """Someone grew the partitions and shortened the retention on the broker, outside the portal."""
    return make_topic(
        cluster, payments, name="payments.refunds", status=ResourceStatus.DRIFTED,
        observed={"partitions": 6, "replication_factor": 1, "configs": {"retention.ms": "86400000"}},
        drift={"partitions": {"desired": 3, "observed": 6},
               "configs": {"retention.ms": {"desired": "604800000", "observed": "86400000"}}},
        last_error="Changed outside the portal: partitions 3 desired, 6 on the cluster.")
