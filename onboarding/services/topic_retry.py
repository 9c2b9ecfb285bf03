"""The way out of a failed topic for its team: try again now instead of waiting out the backoff.

Operators already have ``topic_apply_now`` for every waiting state; a team's owners and members may retry only
a failed topic (a pending or deleting one is on its way anyway), so the button on the topic page never lets
them hurry the reconciler for anything else.
"""

from __future__ import annotations

from django.db import transaction

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ResourceStatus, Topic
from onboarding.permissions import can_write_team
from onboarding.queue import reconcile_soon
from portal.observability.tracing import service_span


@service_span
def topic_retry(*, actor, topic: Topic, via: str = AuditEvent.Via.SYSTEM) -> None:
    if not can_write_team(actor, topic.team):
        raise PermissionDenied("Only owners and members of the topic's team can retry it.")
    with transaction.atomic():
        waiting = Topic.objects.filter(pk=topic.pk, claim_token="", status=ResourceStatus.FAILED)
        if not waiting.update(next_attempt_at=None):
            raise ValidationError({"__all__": ["Only a failed topic that is not being applied right now can be "
                                               "retried."]})
        audit_record(actor=actor, via=via, action="topic.retry", obj=topic, team=topic.team)
    reconcile_soon(topic.cluster_id)
