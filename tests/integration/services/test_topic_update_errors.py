"""topic_update_errors: every refusal of topic_update, with the same text, without saving anything."""

import pytest
from django.utils import timezone

from onboarding.errors import Conflict, ValidationError
from onboarding.models import AuditEvent, ResourceStatus, Topic
from onboarding.services.topics import topic_update, topic_update_errors
from tests.integration.admin.conftest import make_topic

pytestmark = pytest.mark.django_db

REFUSED_CHANGES = {
    "shrinking partitions": {"partitions": 2},
    "too many partitions": {"partitions": 1000},
    "a retention below the policy": {"configs": {"retention.ms": "5"}},
    "a config teams may not set": {"configs": {"unclean.leader.election.enable": "true"}},
    "a new replication factor": {"replication_factor": 3},
    "bad tags": {"tags": ["Not A Tag", "ok"]},
    "a description too long": {"description": "x" * 5_001},
    "an unknown visibility": {"visibility": "secret"},
    "an unknown drift reaction": {"drift_reaction": "ignore"},
    "several at once": {"partitions": 1, "configs": {"retention.ms": "5"}, "tags": ["BAD"]},
}


@pytest.fixture
def topic(cluster, payments, alice):
    return make_topic(cluster, payments)


def _unchanged(topic):
    current = Topic.objects.get(pk=topic.pk)
    assert (current.generation, current.partitions, current.configs) == (2, 3, {"retention.ms": "604800000"})
    assert not AuditEvent.objects.filter(resource_type="topic").exists()


@pytest.mark.parametrize("changes", REFUSED_CHANGES.values(), ids=REFUSED_CHANGES.keys())
def test_the_errors_are_the_ones_topic_update_raises(topic, alice, changes):
    errors = topic_update_errors(topic=topic, **changes)

    with pytest.raises(ValidationError) as refused:
        topic_update(actor=alice, topic=topic, **changes)

    assert errors and errors == refused.value.message_dict
    _unchanged(topic)


def test_a_valid_change_has_no_errors_and_saves_nothing(topic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as scheduled:
        errors = topic_update_errors(topic=topic, partitions=6, configs={"retention.ms": "86400000"},
                                     description="Orders", tags=["billing"], visibility="private",
                                     drift_reaction="revert", replication_factor=1, expected_generation=2)

    assert errors == {}
    assert scheduled == []
    _unchanged(topic)


def test_a_stale_generation_is_an_all_error_with_the_conflict_text(topic, alice):
    Topic.objects.filter(pk=topic.pk).update(generation=5)  # someone else changed it meanwhile
    topic.refresh_from_db()

    errors = topic_update_errors(topic=topic, partitions=6, expected_generation=2)

    with pytest.raises(Conflict) as conflict:
        topic_update(actor=alice, topic=topic, partitions=6, expected_generation=2)
    assert conflict.value.current_generation == 5
    assert errors == {"__all__": [str(conflict.value)]}
    assert "changed since you loaded it" in str(conflict.value)


def test_a_topic_being_deleted_is_refused_the_same_way(topic, alice):
    Topic.objects.filter(pk=topic.pk).update(status=ResourceStatus.DELETING, delete_requested_at=timezone.now())
    topic.refresh_from_db()

    errors = topic_update_errors(topic=topic, description="too late")

    with pytest.raises(ValidationError) as refused:
        topic_update(actor=alice, topic=topic, description="too late")
    assert errors == refused.value.message_dict == {"__all__": ["This topic is deleted or being deleted."]}
