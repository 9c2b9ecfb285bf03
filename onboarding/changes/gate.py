"""The gate: a gated service's way to open a change request instead of writing.

A gated service (topic_create, schema_version_submit...) validates everything first, then calls
``gate``: when the cluster's ChangePolicy lists the operation, a ChangeRequest holding the operation
and its JSON payload is opened and returned instead of the resource. Nothing reaches Kafka or the
registry before a second person approves it (``changes/requests.py``).

It sits below the services (they call it), so it imports no service: the plan comes from the pure
planners and the platform adapters, and the team hears of the request through the outbox.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes.plans import impact_of, plan_of
from onboarding.models import CanonicalTopic, ChangePolicy, ChangeRequest, Cluster, Team, Topic
from onboarding.outbox import notify


def change_policy_for(cluster: Cluster) -> ChangePolicy:
    """The cluster's change policy; created with the defaults (nothing needs approval) on first use."""
    policy, _ = ChangePolicy.objects.get_or_create(cluster=cluster)
    return policy


def approval_needed(cluster: Cluster, operation: str, target=None) -> bool:
    return (operation in change_policy_for(cluster).operations_needing_approval
            or (operation in CANONICAL_SCHEMA_OPERATIONS and _canonical(target)))


# A canonical topic is a standard many teams map into: its schema changes always take a second person,
# whatever the cluster's policy says (four eyes).
CANONICAL_SCHEMA_OPERATIONS = ("schema.submit", "schema.compatibility")


def _canonical(target) -> bool:
    topic_id = getattr(target, "topic_id", None) if target is not None and not isinstance(target, Topic) \
        else getattr(target, "pk", None)
    return topic_id is not None and CanonicalTopic.objects.filter(topic_id=topic_id).exists()


def change_request_snapshot(cr: ChangeRequest) -> dict:
    """The audited state of a request (before/after of every transition)."""
    return {"title": cr.title, "cluster": cr.cluster.name, "team": cr.team.slug, "operations": cr.operations,
            "status": cr.status, "target": f"{cr.target_type}:{cr.target_id}" if cr.target_type else None,
            "base_generation": cr.base_generation, "error": cr.error}


def gate(*, actor, cluster: Cluster, team: Team, operation: str, payload: dict, title: str, via: str,
         change_request: ChangeRequest | None, target=None) -> ChangeRequest | None:
    """Called by a service once its input is valid: None lets it go on, a ChangeRequest is what it returns.

    ``change_request`` is the approved request being applied (the gate is passed); ``target`` the existing
    object the operation changes, whose generation becomes the request's base.
    """
    if change_request is not None or not approval_needed(cluster, operation, target):
        return None
    return change_request_open(actor=actor, cluster=cluster, team=team, title=title,
                               changes=[{"operation": operation, "payload": payload}], target=target, via=via)


def change_request_open(*, actor, cluster: Cluster, team: Team, title: str, changes: list[dict], via: str,
                        target=None, plan_extra: dict | None = None) -> ChangeRequest:
    """Open a pending request: its plan against the live cluster and its impact are computed now."""
    policy = change_policy_for(cluster)
    now = timezone.now()
    cr = ChangeRequest(cluster=cluster, team=team, title=title[:300], changes=changes, requested_via=via,
                       requested_by=actor if actor is not None and actor.is_authenticated else None,
                       expires_at=now + timedelta(hours=policy.request_ttl_hours), refreshed_at=now)
    if target is not None:
        cr.target_type, cr.target_id, cr.base_generation = target._meta.model_name, str(target.pk), target.generation
    cr.plan = {**plan_of(cluster, changes), **(plan_extra or {})}
    cr.impact = impact_of(cluster, changes)
    with transaction.atomic():
        cr.save()
        audit_record(actor=actor, via=via, action="change_request.open", obj=cr, team=team,
                     after=change_request_snapshot(cr))
        announce(cr, "created")
    return cr


def announce(cr: ChangeRequest, event: str) -> None:
    """Tell the team (its webhooks and e-mail recipients) in the transaction that makes ``event`` true."""
    notify(event=f"change_request.{event}", team=cr.team,
           subject=f"Change request #{cr.pk} on {cr.cluster.name} {event}: {cr.title}",
           payload={"change_request": {
               "id": cr.pk, "title": cr.title, "status": cr.status, "url": reverse("onboarding:change_request_detail",
                                                                                 args=[cr.pk]),
               "cluster": cr.cluster.name, "environment": cr.cluster.environment,
               "operations": [change["operation"] for change in cr.changes],
               "requested_by": cr.requested_by.get_username() if cr.requested_by else None,
               "decided_by": cr.decided_by.get_username() if cr.decided_by else None,
               "comment": cr.decision_comment, "error": cr.error,
           }})
