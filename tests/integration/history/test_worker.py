"""The reconciler's status bookkeeping is not desired state: a real worker making a topic ready writes no history."""

import pytest

from onboarding.history.models import TopicEvent
from onboarding.models import ResourceStatus
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_topic_made_ready_by_the_worker_has_only_its_registration_in_history(celery_worker, cluster, payments,
                                                                                alice, topic_name):
    topic = topic_create(actor=alice, team=payments, cluster=cluster, name=topic_name(), partitions=1,
                         replication_factor=1, via="browser")

    topic = wait_for_status(topic, ResourceStatus.READY)

    assert topic.observed_generation == topic.generation  # the worker claimed, applied and settled the row
    assert list(TopicEvent.objects.filter(pgh_obj_id=topic.pk).values_list("pgh_label", flat=True)) == ["insert"]
