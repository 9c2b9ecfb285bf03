"""The topic actions call the services, as the operator, through the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding.models import AuditEvent, ResourceStatus, Topic
from tests.integration.admin.conftest import make_topic

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:onboarding_topic_changelist")


def _act(client, action, *topics):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [t.pk for t in topics]}, follow=True)


def _audit(topic, action):
    return AuditEvent.objects.get(resource_type="topic", resource_id=str(topic.pk), action=action)


def test_adopt_takes_the_observed_shape_into_the_desired_state(operator_client, operator, drifted_topic):
    response = _act(operator_client, "adopt_drift", drifted_topic)

    assert response.status_code == 200
    drifted_topic.refresh_from_db()
    assert drifted_topic.status == ResourceStatus.READY
    assert drifted_topic.partitions == 6
    assert drifted_topic.configs == {"retention.ms": "86400000"}
    assert drifted_topic.generation == drifted_topic.observed_generation == 3
    assert drifted_topic.drift is None
    event = _audit(drifted_topic, "topic.drift.adopt")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)
    assert event.before["partitions"] == 3 and event.after["partitions"] == 6


def test_revert_queues_the_desired_state_again(operator_client, operator, drifted_topic):
    # A retention change can be put back; the grown partitions of the fixture could not (next test).
    Topic.objects.filter(pk=drifted_topic.pk).update(drift={"configs": drifted_topic.drift["configs"]})
    _act(operator_client, "revert_drift", drifted_topic)

    drifted_topic.refresh_from_db()
    assert drifted_topic.status == ResourceStatus.PENDING
    assert drifted_topic.partitions == 3  # the desired state stays
    event = _audit(drifted_topic, "topic.drift.revert")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)


def test_revert_of_grown_partitions_is_refused_with_the_reason(operator_client, drifted_topic):
    response = _act(operator_client, "revert_drift", drifted_topic)

    drifted_topic.refresh_from_db()
    assert drifted_topic.status == ResourceStatus.DRIFTED
    assert "Kafka cannot shrink partitions" in response.content.decode()


def test_apply_now_skips_the_backoff(operator_client, operator, cluster, payments):
    failed = make_topic(cluster, payments, name="payments.ledger", status=ResourceStatus.FAILED, failures=4,
                        next_attempt_at=timezone.now() + timedelta(minutes=5), last_error="Kafka timed out")
    _act(operator_client, "apply_now", failed)

    failed.refresh_from_db()
    assert failed.next_attempt_at is None
    assert _audit(failed, "topic.apply_now").via == AuditEvent.Via.ADMIN


def test_a_refused_topic_is_reported_and_the_others_still_change(operator_client, ready_topic, drifted_topic):
    response = _act(operator_client, "adopt_drift", ready_topic, drifted_topic)

    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("payments.orders" in t and "no drift to adopt" in t for t in texts), texts
    assert any("Adopted the cluster's state for 1 topic" in t for t in texts), texts
    drifted_topic.refresh_from_db()
    assert drifted_topic.status == ResourceStatus.READY


def test_topics_cannot_be_added_or_deleted_as_rows(operator_client, ready_topic):
    assert operator_client.get(reverse("admin:onboarding_topic_add")).status_code == 403
    assert operator_client.get(reverse("admin:onboarding_topic_delete", args=[ready_topic.pk])).status_code == 403
    response = operator_client.get(CHANGELIST)
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert "adopt_drift" in actions and "delete_selected" not in actions
    assert _act(operator_client, "delete_selected", ready_topic).status_code == 200
    ready_topic.refresh_from_db()  # still there
