"""Change requests: deciding on the operations a cluster's policy puts behind a second person's approval.

``changes/gate.py`` opens them. Approving one runs the same service again (``change_request=`` the
approved request, which skips the gate), attributed to the requester, in one transaction; the
services are found through ``changes/registry.py``, so this module imports none of them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes import registry
from onboarding.changes.gate import announce, change_policy_for, change_request_snapshot
from onboarding.changes.plans import impact_of, plan_of
from onboarding.errors import Conflict, NotFound, PermissionDenied, ValidationError
from onboarding.models import (
    Aggregation,
    AuditEvent,
    ChangePolicy,
    ChangeRequest,
    Connector,
    EventStoreBinding,
    Schema,
    ServiceAccount,
    Topic,
)
from onboarding.permissions import can_read_team, can_write_team, is_operator, is_team_owner

Status = ChangeRequest.Status
# target_type -> model whose ``generation`` is the request's base.
TARGETS = {"topic": Topic, "schema": Schema, "serviceaccount": ServiceAccount, "aggregation": Aggregation,
           "connector": Connector, "eventstorebinding": EventStoreBinding}
STALE = ("{what} changed since this request was planned (generation {base} -> {now}). Refresh the request to "
         "see the new plan, then approve it.")


def _target_generation(target_type: str, target_id: str) -> int | None:
    model = TARGETS.get(target_type)
    if model is None:
        return None
    row = model.objects.filter(pk=target_id).values_list("generation", "status").first()
    if row is None or row[1] == "deleted":
        return 0
    return row[0]


def can_approve(user, cr: ChangeRequest) -> bool:
    """Approvers as the cluster's policy says; never the person who asked."""
    if not (user and user.is_authenticated) or cr.requested_by_id == user.pk:
        return False
    if change_policy_for(cr.cluster).approvers == ChangePolicy.Approvers.OPERATORS:
        return is_operator(user)
    return is_team_owner(user, cr.team)


def _locked(cr: ChangeRequest, actor) -> ChangeRequest:
    locked = (ChangeRequest.objects.select_for_update(no_key=True, of=("self",))
              .select_related("cluster", "team", "requested_by").get(pk=cr.pk))
    if not can_read_team(actor, locked.team):
        raise NotFound("No such change request.")
    return locked


def _check_decider(actor, cr: ChangeRequest) -> None:
    if cr.requested_by_id is not None and cr.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDenied("You requested this change: someone else must approve or reject it.")
    if not can_approve(actor, cr):
        who = ("platform operators" if change_policy_for(cr.cluster).approvers == ChangePolicy.Approvers.OPERATORS
               else "other owners of the team or platform operators")
        raise PermissionDenied(f"Only {who} decide on change requests on {cr.cluster.name}.")
    if cr.status != Status.PENDING:
        raise ValidationError({"__all__": [f"Only waiting requests can be decided; this one is {cr.status}."]})


def _expire(cr: ChangeRequest, *, actor=None, via: str = AuditEvent.Via.SYSTEM) -> None:
    before = change_request_snapshot(cr)
    cr.status = Status.EXPIRED
    cr.save(update_fields=["status"])
    audit_record(actor=actor, via=via, action="change_request.expire", obj=cr, team=cr.team, before=before,
                 after=change_request_snapshot(cr))


def change_request_approve(*, actor, change_request: ChangeRequest, comment: str = "", via: str) -> ChangeRequest:
    """Approve and apply at once through the same services, as the requester; applied or failed (with why).

    Refused for an expired request (it is marked expired) and for a request whose target changed since it was
    planned (refresh it first).
    """
    expired = False
    with transaction.atomic():
        cr = _locked(change_request, actor)
        _check_decider(actor, cr)
        if cr.expires_at <= timezone.now():
            _expire(cr, actor=actor, via=via)
            expired = True
        else:
            current = _target_generation(cr.target_type, cr.target_id)
            if cr.target_type and current != cr.base_generation:
                raise ValidationError({"__all__": [STALE.format(what=f"The {cr.target_type}", base=cr.base_generation,
                                                                now=current)]})
            before = change_request_snapshot(cr)
            cr.decided_by, cr.decided_at, cr.decision_comment = actor, timezone.now(), (comment or "").strip()
            audit_record(actor=actor, via=via, action="change_request.approve", obj=cr, team=cr.team,
                         before=before, note=cr.decision_comment)
            announce(cr, "approved")
            _apply(cr, via=via)
    if expired:
        raise ValidationError({"__all__": ["This request expired before anyone approved it; ask again."]})
    return cr


def _apply(cr: ChangeRequest, *, via: str) -> None:
    """Run every change in a savepoint: all applied, or none and the request failed with the service's words."""
    before = change_request_snapshot(cr)
    try:
        with transaction.atomic():
            for change in cr.changes:
                registry.execute(change, actor=cr.requested_by, via=via, change_request=cr)
    except (ValidationError, PermissionDenied, Conflict, NotFound) as exc:
        cr.status, cr.error = Status.FAILED, _error_text(exc)
    else:
        cr.status, cr.applied_at, cr.error = Status.APPLIED, timezone.now(), ""
    cr.save()
    approver = cr.decided_by.get_username() if cr.decided_by else "policy: no approval needed"
    audit_record(actor=cr.requested_by, via=via, action=f"change_request.{cr.status}", obj=cr, team=cr.team,
                 before=before, after=change_request_snapshot(cr), note=f"Approved by {approver}")
    announce(cr, "applied" if cr.status == Status.APPLIED else "failed")


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
                         for field, messages in exc.message_dict.items())
    return str(exc) or exc.__class__.__name__


def change_request_apply_unreviewed(cr: ChangeRequest, *, via: str) -> ChangeRequest:
    """Apply a request whose operations the cluster's policy does not gate (a promotion nobody must approve)."""
    with transaction.atomic():
        cr = (ChangeRequest.objects.select_for_update(no_key=True, of=("self",))
              .select_related("cluster", "team").get(pk=cr.pk))
        _apply(cr, via=via)
    return cr


def change_request_reject(*, actor, change_request: ChangeRequest, comment: str = "", via: str) -> ChangeRequest:
    """Refuse a waiting request: nothing is applied."""
    with transaction.atomic():
        cr = _locked(change_request, actor)
        _check_decider(actor, cr)
        before = change_request_snapshot(cr)
        cr.status, cr.decided_by, cr.decided_at = Status.REJECTED, actor, timezone.now()
        cr.decision_comment = (comment or "").strip()
        cr.save()
        audit_record(actor=actor, via=via, action="change_request.reject", obj=cr, team=cr.team, before=before,
                     after=change_request_snapshot(cr), note=cr.decision_comment)
        announce(cr, "rejected")
    return cr


def change_request_withdraw(*, actor, change_request: ChangeRequest, via: str) -> ChangeRequest:
    """The requester takes back a waiting request: nothing is applied. Withdrawn, not rejected: nobody decided
    against the change. The team hears of it, so approvers stop looking at it."""
    with transaction.atomic():
        cr = _locked(change_request, actor)
        if cr.requested_by_id is None or cr.requested_by_id != getattr(actor, "pk", None):
            raise PermissionDenied("Only the person who asked for this change can withdraw it.")
        if cr.status != Status.PENDING:
            raise ValidationError({"__all__": [f"Only waiting requests can be withdrawn; this one is {cr.status}."]})
        before = change_request_snapshot(cr)
        cr.status, cr.decided_by, cr.decided_at = Status.WITHDRAWN, actor, timezone.now()
        cr.save()
        audit_record(actor=actor, via=via, action="change_request.withdraw", obj=cr, team=cr.team, before=before,
                     after=change_request_snapshot(cr))
        announce(cr, "withdrawn")
    return cr


def change_request_refresh(*, actor, change_request: ChangeRequest, via: str) -> ChangeRequest:
    """Recompute the base, the plan and the impact of a waiting request against the live cluster."""
    cr = ChangeRequest.objects.select_related("cluster", "team").get(pk=change_request.pk)
    if not can_read_team(actor, cr.team):
        raise NotFound("No such change request.")
    if not can_write_team(actor, cr.team):
        # A refresh moves the request's base generation, which decides whether approving it is still safe.
        raise PermissionDenied("Only owners and members of the team or platform operators refresh its requests.")
    if cr.status != Status.PENDING:
        raise ValidationError({"__all__": [f"Only waiting requests can be refreshed; this one is {cr.status}."]})
    plan, impact = plan_of(cr.cluster, cr.changes), impact_of(cr.cluster, cr.changes)
    with transaction.atomic():
        cr = _locked(cr, actor)
        before = change_request_snapshot(cr)
        extra = {k: v for k, v in cr.plan.items() if k == "skipped"}
        cr.plan, cr.impact, cr.refreshed_at = {**plan, **extra}, impact, timezone.now()
        if cr.target_type:
            cr.base_generation = _target_generation(cr.target_type, cr.target_id)
        cr.save()
        audit_record(actor=actor, via=via, action="change_request.refresh", obj=cr, team=cr.team, before=before,
                     after=change_request_snapshot(cr))
    return cr


def change_requests_expire(now=None) -> int:
    """Mark waiting requests past their expiry as expired (Celery beat); returns how many."""
    now = now or timezone.now()
    count = 0
    for pk in ChangeRequest.objects.filter(status=Status.PENDING, expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            cr = (ChangeRequest.objects.select_for_update(no_key=True, of=("self",)).select_related("cluster", "team")
                  .filter(pk=pk, status=Status.PENDING).first())
            if cr is not None:
                _expire(cr)
                count += 1
    return count


def change_policy_update(*, actor, policy: ChangePolicy, via: str, **changes) -> ChangePolicy:
    """Operators: which operations on a cluster need approval, by whom, and for how long a request waits."""
    if not is_operator(actor):
        raise PermissionDenied("Only platform operators change a cluster's change policy.")
    before = {"operations_needing_approval": list(policy.operations_needing_approval), "approvers": policy.approvers,
              "request_ttl_hours": policy.request_ttl_hours}
    for field, value in changes.items():
        setattr(policy, field, value)
    policy.full_clean(exclude=["cluster"])
    with transaction.atomic():
        policy.save()
        audit_record(actor=actor, via=via, action="change_policy.update", obj=policy, before=before,
                     after={"operations_needing_approval": list(policy.operations_needing_approval),
                            "approvers": policy.approvers, "request_ttl_hours": policy.request_ttl_hours})
    return policy
