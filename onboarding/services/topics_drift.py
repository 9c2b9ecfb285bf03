"""Drift decisions: when the cluster differs from the desired state, the team's owners or an operator
either revert the cluster to the portal's state or adopt the cluster's state as the desired one.

A drift that Kafka cannot undo (more partitions than desired, another replication factor) is refused for
revert with the reason, and can always be adopted: also after a revert that failed on it, while the drift
is still shown."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ResourceStatus, Topic
from onboarding.permissions import is_operator, is_team_owner
from onboarding.queue import reconcile_soon
from onboarding.reconcile.topics_plan import unrevertable
from onboarding.services.topics import _locked, topic_snapshot


def has_drift(topic: Topic) -> bool:
    """A drift is shown and waits for a decision: reported, or a revert that failed (e.g. on shrinking)."""
    return topic.status == ResourceStatus.DRIFTED or (
        topic.status == ResourceStatus.FAILED and topic.drift is not None and not topic.wants_deletion)


def revert_refusals(topic: Topic) -> list[str]:
    """Why revert is not offered for the topic's drift (empty when it is, or when there is no drift)."""
    return unrevertable(topic.drift) if has_drift(topic) else []


def topic_revert(*, actor, topic: Topic, via: str = AuditEvent.Via.SYSTEM) -> Topic:
    """Drift: make the cluster match the desired state again (recreating a deleted topic)."""
    if not (is_team_owner(actor, topic.team) or is_operator(actor)):
        raise PermissionDenied("Only the team's owners or platform operators decide about drift.")
    with transaction.atomic():
        topic = _locked(topic, None)
        if not has_drift(topic):
            raise ValidationError({"__all__": ["The topic has no drift to revert."]})
        if reasons := unrevertable(topic.drift):
            raise ValidationError({"__all__": reasons})
        drift = topic.drift
        topic.status = ResourceStatus.PENDING
        topic.failures, topic.next_attempt_at = 0, None
        topic.save()
        audit_record(actor=actor, via=via, action="topic.drift.revert", obj=topic, team=topic.team,
                     before={"drift": drift}, after=topic_snapshot(topic))
    reconcile_soon(topic.cluster_id)
    return topic


def topic_adopt(*, actor, topic: Topic, via: str = AuditEvent.Via.SYSTEM) -> Topic:
    """Drift: take what the cluster has into the desired state (a topic deleted behind our back is
    recorded as deleted)."""
    if not (is_team_owner(actor, topic.team) or is_operator(actor)):
        raise PermissionDenied("Only the team's owners or platform operators decide about drift.")
    with transaction.atomic():
        topic = _locked(topic, None)
        if not has_drift(topic):
            raise ValidationError({"__all__": ["The topic has no drift to adopt."]})
        before = topic_snapshot(topic)
        now = timezone.now()
        if topic.observed is None:
            topic.status, topic.deleted_at, topic.delete_requested_at = ResourceStatus.DELETED, now, now
        else:
            topic.partitions = topic.observed["partitions"]
            topic.replication_factor = topic.observed["replication_factor"]
            topic.configs = dict(topic.observed["configs"])
            topic.generation += 1
            topic.observed_generation = topic.generation
            topic.status, topic.ready_at = ResourceStatus.READY, now
        topic.drift, topic.last_error = None, ""
        topic.save()
        audit_record(actor=actor, via=via, action="topic.drift.adopt", obj=topic, team=topic.team,
                     before=before, after=topic_snapshot(topic))
    return topic
