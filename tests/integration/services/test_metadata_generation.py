"""Edits Kafka never sees (description, tags, visibility, approval flag) still move the generation, so a
change based on the old one is refused, and the reconciler has nothing to do for them."""

import pytest

from onboarding.errors import Conflict
from onboarding.models import ResourceStatus, ServiceAccount, Topic
from onboarding.reconcile import claims
from onboarding.reconcile.topics import claim, due_topics
from onboarding.services import topics as topic_services
from onboarding.services.service_accounts import service_account_update
from onboarding.services.topics import topic_update
from tests.integration.admin.conftest import make_topic

pytestmark = pytest.mark.django_db

METADATA_EDITS = {
    "description": {"description": "Orders, one event per state change."},
    "tags": {"tags": ["orders", "pci"]},
    "visibility": {"visibility": Topic.Visibility.PRIVATE},
    "approval": {"subscriptions_need_approval": True},
}


@pytest.fixture
def scheduled(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(topic_services, "reconcile_soon", calls.append)
    return calls


@pytest.mark.parametrize("edit", METADATA_EDITS.values(), ids=METADATA_EDITS.keys())
def test_a_metadata_edit_moves_the_generation_and_a_change_based_on_the_old_one_is_refused(
        cluster, payments, alice, edit):
    topic = make_topic(cluster, payments)

    topic_update(actor=alice, topic=topic, expected_generation=2, **edit)

    with pytest.raises(Conflict) as refused:
        topic_update(actor=alice, topic=topic, expected_generation=2, description="Someone else's text")
    assert refused.value.current_generation == 3
    assert Topic.objects.get(pk=topic.pk).description != "Someone else's text"


@pytest.mark.parametrize("edit", METADATA_EDITS.values(), ids=METADATA_EDITS.keys())
def test_a_metadata_edit_of_an_applied_topic_leaves_it_applied_and_kafka_alone(
        cluster, payments, alice, scheduled, edit):
    topic = make_topic(cluster, payments)

    topic_update(actor=alice, topic=topic, expected_generation=2, **edit)

    topic.refresh_from_db()
    assert (topic.generation, topic.observed_generation, topic.status) == (3, 3, ResourceStatus.READY)
    assert scheduled == []
    assert not due_topics(cluster.pk).filter(pk=topic.pk).exists()


def test_a_metadata_edit_during_a_run_does_not_keep_the_run_from_settling(cluster, payments, alice):
    topic = make_topic(cluster, payments, status=ResourceStatus.PENDING, generation=3, observed_generation=2)
    [claimed] = claim(cluster.pk, "run-1")

    topic_update(actor=alice, topic=topic, expected_generation=3, description="Edited while applying")
    report = claims.RunReport(run_id="run-1")
    claims.settle(Topic, report, done=[claimed.pk], gone=[], now=claimed.claimed_at)

    topic.refresh_from_db()
    assert report.ready == 1
    assert (topic.status, topic.generation, topic.observed_generation, topic.claim_token) == (
        ResourceStatus.READY, 4, 4, "")


def test_a_metadata_edit_of_a_topic_still_pending_keeps_its_work_outstanding(cluster, payments, alice):
    topic = make_topic(cluster, payments, status=ResourceStatus.PENDING, generation=3, observed_generation=2)

    topic_update(actor=alice, topic=topic, expected_generation=3, tags=["orders"])

    topic.refresh_from_db()
    assert (topic.status, topic.generation, topic.observed_generation) == (ResourceStatus.PENDING, 4, 2)
    assert due_topics(cluster.pk).filter(pk=topic.pk).exists()


def test_a_service_account_description_edit_moves_its_generation_in_place(cluster, payments, alice):
    account = ServiceAccount.objects.create(cluster=cluster, team=payments, name="reader", username="payments.reader",
                                            status=ResourceStatus.READY, generation=1, observed_generation=1)

    service_account_update(actor=alice, sa=account, description="Reads orders")

    account.refresh_from_db()
    assert (account.generation, account.observed_generation, account.status) == (2, 2, ResourceStatus.READY)
