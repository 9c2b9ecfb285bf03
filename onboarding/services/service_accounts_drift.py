"""ACL and client-quota drift of a service account: the team's owners or an operator revert or adopt it.

- **Revert** puts back the portal's standard ACL set of the account (its team's rights and its approved
  direct subscriptions): missing ACLs are created, extra ones deleted, and any exception adopted earlier
  is forgotten. It is also offered without drift while such exceptions exist, to return to the standard.
- **Adopt** takes the principal's ACLs as last observed on the cluster as its desired set: extra ACLs are
  recorded as accepted (the portal keeps them and stops reporting them), missing ones as waived (the
  portal no longer grants them). Both are kept in ``ServiceAccount.acl_exceptions``, shown on the
  account's page, and apply only to the account's own principal.
- A client quota changed outside the portal is reverted to the account's quotas by the same access run, or
  adopted: the quotas found on the cluster become the account's.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ResourceStatus, ServiceAccount, Subscription
from onboarding.permissions import is_operator, is_team_owner
from onboarding.queue import access_reconcile_soon
from onboarding.reconcile import access_plan, quotas_plan
from onboarding.reconcile.access import desired_acls
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
    locked = (ServiceAccount.objects.select_for_update(no_key=True, of=("self",))
              .select_related("team", "cluster").get(pk=sa.pk))
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
        before = {**service_account_snapshot(sa), "drift": sa.drift}
        if sa.drift.get("quota"):
            # The quota found on the cluster becomes the account's own; a key Kafka does not have is cleared.
            seen = sa.drift["quota"]["observed"]
            for key in quotas_plan.QUOTA_KEYS:
                setattr(sa, key, seen.get(key))
        observed = {s for s in access_plan.specs_of(sa.observed["acls"]) if s.principal == sa.principal}
        standard = desired_acls(sa.cluster_id, standard=True).get(sa.principal, set())
        exceptions = access_plan.adopted(standard, observed)
        _check_foreign(actor, sa, access_plan.specs_of(exceptions.get("accepted")))
        sa.acl_exceptions = exceptions
        sa.generation += 1
        sa.observed_generation = sa.generation
        sa.status, sa.ready_at, sa.drift, sa.last_error = ResourceStatus.READY, timezone.now(), None, ""
        sa.failures, sa.next_attempt_at = 0, None
        sa.save()
        audit_record(actor=actor, via=via, action="service_account.drift.adopt", obj=sa, team=sa.team,
                     before=before, after=service_account_snapshot(sa),
                     note="The cluster's ACLs and client quotas of the account are now its desired ones.")
    return sa


# ---------------------------------------------------------------------------------------------- subscriptions
# A direct subscription's drift is about the topic ACLs it grants its account (READ/DESCRIBE on the source).
# Revert re-applies them; adopt records the difference on the account as exceptions, like an account's adopt:
# a missing grant is waived (less access: the subscriber's owners, the source's owners or operators decide),
# an extra one (e.g. a revoked subscription whose READ came back) kept only by the source team's owners or
# operators, since it is access to their data.


def _check_subscription(actor, sub: Subscription, *, grants: bool) -> None:
    source_side = is_team_owner(actor, sub.source.team) or is_operator(actor)
    if grants and not source_side:
        raise PermissionDenied("Keeping access to a topic is for the topic team's owners or platform operators.")
    if not (source_side or is_team_owner(actor, sub.subscriber)):
        raise PermissionDenied("Only the owners of either team or platform operators decide about drift.")


def _locked_subscription(sub: Subscription) -> Subscription:
    locked = (Subscription.objects.select_for_update(no_key=True, of=("self",))
              .select_related("source__team", "subscriber", "service_account__team").get(pk=sub.pk))
    if locked.claim_token:
        raise ValidationError({"__all__": ["The access reconciler is applying this subscription right now; try "
                                           "again in a moment."]})
    if not (locked.drift and locked.status in DECIDABLE):
        raise ValidationError({"__all__": ["The subscription has no ACL drift to decide."]})
    return locked


def subscription_revert(*, actor, subscription: Subscription, via: str = AuditEvent.Via.SYSTEM) -> Subscription:
    """Put the subscription's topic ACLs back as the portal has them (granted while active, absent after)."""
    sub = Subscription.objects.select_related("source__team", "subscriber", "service_account").get(pk=subscription.pk)
    _check_subscription(actor, sub, grants=False)
    with transaction.atomic():
        sub = _locked_subscription(sub)
        drift = sub.drift
        # Forget what was adopted earlier for this subscription's ACLs, so the portal's own rule applies again.
        concerned = access_plan.specs_of([*drift.get("missing", []), *drift.get("extra", [])])
        concerned |= {s for s in access_plan.direct_acls(access_plan.DirectAccessInput(
            sub.service_account.principal, sub.subscriber.slug, sub.source.name)) if s.resource_type == "TOPIC"}
        sa = ServiceAccount.objects.select_for_update(no_key=True).get(pk=sub.service_account_id)
        kept = {key: [s.as_dict() for s in sorted(access_plan.specs_of(values) - concerned)]
                for key, values in (sa.acl_exceptions or {}).items()}
        kept = {key: values for key, values in kept.items() if values}
        if kept != (sa.acl_exceptions or {}):
            sa.acl_exceptions, sa.generation = kept, sa.generation + 1
            sa.save()
        sub.status, sub.failures, sub.next_attempt_at = ResourceStatus.PENDING, 0, None
        sub.save()
        audit_record(actor=actor, via=via, action="subscription.drift.revert", obj=sub, team=sub.subscriber,
                     before={"drift": drift}, after={"status": sub.status})
    access_reconcile_soon(sub.source.cluster_id)
    return sub


def subscription_adopt(*, actor, subscription: Subscription, via: str = AuditEvent.Via.SYSTEM) -> Subscription:
    """Take the cluster's topic ACLs of the subscription as desired, recorded on its service account."""
    sub = Subscription.objects.select_related("source__team", "subscriber").get(pk=subscription.pk)
    _check_subscription(actor, sub, grants=bool((sub.drift or {}).get("extra")))
    with transaction.atomic():
        sub = _locked_subscription(sub)
        _check_subscription(actor, sub, grants=bool(sub.drift.get("extra")))
        sa = ServiceAccount.objects.select_for_update(no_key=True).get(pk=sub.service_account_id)
        accepted = access_plan.specs_of((sa.acl_exceptions or {}).get("accepted"))
        waived = access_plan.specs_of((sa.acl_exceptions or {}).get("waived"))
        extra, missing = access_plan.specs_of(sub.drift.get("extra")), access_plan.specs_of(sub.drift.get("missing"))
        accepted, waived = (accepted | extra) - missing, (waived | missing) - extra
        before = {"drift": sub.drift, "account_acl_exceptions": sa.acl_exceptions}
        sa.acl_exceptions = {key: [s.as_dict() for s in sorted(specs)]
                             for key, specs in (("accepted", accepted), ("waived", waived)) if specs}
        sa.generation += 1
        sa.save()
        sub.status, sub.drift, sub.last_error, sub.ready_at = ResourceStatus.READY, None, "", timezone.now()
        sub.failures, sub.next_attempt_at = 0, None
        sub.save()
        audit_record(actor=actor, via=via, action="subscription.drift.adopt", obj=sub, team=sub.subscriber,
                     before=before, after={"account_acl_exceptions": sa.acl_exceptions},
                     note=f"Recorded on {sa.username}.")
    return sub
