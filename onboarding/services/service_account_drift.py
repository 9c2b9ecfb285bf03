"""ACL drift of a service account: the team's owners or an operator revert or adopt it.

- **Revert** puts back the portal's standard ACL set of the account (its team's rights and its approved
  direct subscriptions): missing ACLs are created, extra ones deleted, and any exception adopted earlier
  is forgotten. It is also offered without drift while such exceptions exist, to return to the standard.
- **Adopt** takes the principal's ACLs as last observed on the cluster as its desired set: extra ACLs are
  recorded as accepted (the portal keeps them and stops reporting them), missing ones as waived (the
  portal no longer grants them). Both are kept in ``ServiceAccount.acl_exceptions``, shown on the
  account's page, and apply only to the account's own principal.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onboarding.models import AuditEvent, ResourceStatus, ServiceAccount
from onboarding.reconcile import access_plan
from onboarding.reconcile.access import desired_acls
from onboarding.services.access import is_operator, is_team_owner
from onboarding.services.audit import audit_record
from onboarding.services.errors import PermissionDenied, ValidationError
from onboarding.services.scheduling import access_reconcile_soon
from onboarding.services.service_accounts import service_account_snapshot

# A failed revert keeps its drift record: the decision can still be taken again or the other way.
DECIDABLE = (ResourceStatus.DRIFTED, ResourceStatus.FAILED)


def has_drift(sa: ServiceAccount) -> bool:
    return bool(sa.drift) and sa.status in DECIDABLE


def can_revert(sa: ServiceAccount) -> bool:
    return not sa.wants_deletion and sa.status != ResourceStatus.DELETED and (
        has_drift(sa) or bool(sa.acl_exceptions))


def _check(actor, sa: ServiceAccount) -> None:
    if not (is_team_owner(actor, sa.team) or is_operator(actor)):
        raise PermissionDenied("Only the team's owners or platform operators decide about drift.")


def _locked(sa: ServiceAccount) -> ServiceAccount:
    locked = ServiceAccount.objects.select_for_update().select_related("team", "cluster").get(pk=sa.pk)
    if locked.wants_deletion or locked.status == ResourceStatus.DELETED:
        raise ValidationError({"__all__": ["This service account is deleted or being deleted."]})
    if locked.claim_token:
        raise ValidationError({"__all__": ["The access reconciler is applying this account right now; try again "
                                           "in a moment."]})
    return locked


def _foreign(sa: ServiceAccount, specs) -> list:
    """ACLs on resources outside the account's team prefix: other teams' topics, groups, transactional ids."""
    prefix = f"{sa.team.slug}."
    return sorted(s for s in specs if not s.name.startswith(prefix))


def _check_foreign(actor, sa: ServiceAccount, accepted) -> None:
    # Reading another team's topic needs that team's consent (a subscription); keeping such a right found on
    # the cluster is therefore the platform operators' decision, never the account's own team's.
    if (foreign := _foreign(sa, accepted)) and not is_operator(actor):
        names = "; ".join(s.label() for s in foreign)
        raise ValidationError({"__all__": [
            f"The cluster gives {sa.username} rights outside its team ({names}): only platform operators can "
            "adopt those. Revert, or ask an operator."]})


def service_account_revert(*, actor, sa: ServiceAccount, via: str = AuditEvent.Via.SYSTEM) -> ServiceAccount:
    """Make the cluster hold exactly the account's standard ACLs again (the access reconciler applies it)."""
    _check(actor, sa)
    with transaction.atomic():
        sa = _locked(sa)
        if not can_revert(sa):
            raise ValidationError({"__all__": ["The service account has no ACL drift to revert."]})
        before = {**service_account_snapshot(sa), "drift": sa.drift}
        if sa.acl_exceptions:
            sa.acl_exceptions = {}
            sa.generation += 1  # the desired ACL set changed
        sa.status, sa.failures, sa.next_attempt_at = ResourceStatus.PENDING, 0, None
        sa.save()
        audit_record(actor=actor, via=via, action="service_account.drift.revert", obj=sa, team=sa.team,
                     before=before, after=service_account_snapshot(sa),
                     note="The portal's standard ACLs are put back.")
    access_reconcile_soon(sa.cluster_id)
    return sa


def service_account_adopt(*, actor, sa: ServiceAccount, via: str = AuditEvent.Via.SYSTEM) -> ServiceAccount:
    """Take the account's ACLs as observed on the cluster as its desired set."""
    _check(actor, sa)
    with transaction.atomic():
        sa = _locked(sa)
        if not has_drift(sa) or not sa.observed or "acls" not in sa.observed:
            raise ValidationError({"__all__": ["The service account has no ACL drift to adopt."]})
        observed = {s for s in access_plan.specs_of(sa.observed["acls"]) if s.principal == sa.principal}
        standard = desired_acls(sa.cluster_id, standard=True).get(sa.principal, set())
        exceptions = access_plan.adopted(standard, observed)
        _check_foreign(actor, sa, access_plan.specs_of(exceptions.get("accepted")))
        before = {**service_account_snapshot(sa), "drift": sa.drift}
        sa.acl_exceptions = exceptions
        sa.generation += 1
        sa.observed_generation = sa.generation
        sa.status, sa.ready_at, sa.drift, sa.last_error = ResourceStatus.READY, timezone.now(), None, ""
        sa.failures, sa.next_attempt_at = 0, None
        sa.save()
        audit_record(actor=actor, via=via, action="service_account.drift.adopt", obj=sa, team=sa.team,
                     before=before, after=service_account_snapshot(sa),
                     note="The cluster's ACLs of the account are now its desired ACLs.")
    return sa
