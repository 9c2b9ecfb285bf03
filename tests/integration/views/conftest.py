"""Topics of the payments team in the states the pages care about, and a test client per actor."""

import pytest

from onboarding.models import ResourceStatus, Topic
from onboarding.services.topics import topic_create


@pytest.fixture
def public_topic(alice, cluster, payments):
    return topic_create(actor=alice, cluster=cluster, team=payments, name="payments.orders", partitions=3,
                        replication_factor=1, configs={"retention.ms": "86400000"}, description="Orders placed",
                        tags=["billing"], visibility=Topic.Visibility.PUBLIC)


@pytest.fixture
def private_topic(alice, cluster, payments):
    return topic_create(actor=alice, cluster=cluster, team=payments, name="payments.ledger", partitions=1,
                        replication_factor=1, visibility=Topic.Visibility.PRIVATE)


@pytest.fixture
def drifted_topic(public_topic):
    """The broker was changed by hand: partitions grew and retention changed."""
    Topic.objects.filter(pk=public_topic.pk).update(
        status=ResourceStatus.DRIFTED, observed_generation=public_topic.generation,
        observed={"partitions": 6, "replication_factor": 1, "configs": {"retention.ms": "3600000"}},
        drift={"partitions": {"desired": 3, "observed": 6},
               "configs": {"retention.ms": {"desired": "86400000", "observed": "3600000"}}},
        last_error="Changed outside the portal: partitions 3 desired, 6 on the cluster.")
    public_topic.refresh_from_db()
    return public_topic


@pytest.fixture
def retention_drifted_topic(public_topic):
    """The broker was changed by hand: only retention changed, which both revert and adopt can resolve (grown
    partitions can only be adopted)."""
    Topic.objects.filter(pk=public_topic.pk).update(
        status=ResourceStatus.DRIFTED, observed_generation=public_topic.generation,
        observed={"partitions": 3, "replication_factor": 1, "configs": {"retention.ms": "3600000"}},
        drift={"configs": {"retention.ms": {"desired": "86400000", "observed": "3600000"}}},
        last_error="Changed outside the portal: retention.ms 86400000 desired, 3600000 on the cluster.")
    public_topic.refresh_from_db()
    return public_topic

