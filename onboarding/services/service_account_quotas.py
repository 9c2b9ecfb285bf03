"""Client quotas of a service account: produce and consume bytes/s and request percentage of its principal.

The access reconciler applies them to Kafka as quotas of the entity user=<username> (reconcile/access.py), and
its drift check reports a quota changed outside the portal like ACL drift (reconcile/access_drift.py). A cluster
whose change policy lists ``service_account.quota`` turns a change into a change request.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, ServiceAccount
from onboarding.permissions import can_write_team
from onboarding.queue import access_reconcile_soon
from onboarding.services.service_accounts import service_account_snapshot
from portal.observability.tracing import service_span

QUOTA_FIELDS = ("producer_byte_rate", "consumer_byte_rate", "request_percentage")


def _checked(sa: ServiceAccount, values: dict) -> dict:
    """The values as the model's own validators judge them (minimums and maximums), field by field."""
    errors = {}
    cleaned = {}
    for name, value in values.items():
        field = ServiceAccount._meta.get_field(name)
        try:
            cleaned[name] = field.clean(value, sa) if value not in (None, "") else None
        except DjangoValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


@service_span
def service_account_set_quota(*, actor, sa: ServiceAccount, producer_byte_rate: int | None = None,
                              consumer_byte_rate: int | None = None, request_percentage: int | None = None,
                              via: str = AuditEvent.Via.SYSTEM,
                              change_request: ChangeRequest | None = None) -> ServiceAccount | ChangeRequest:
    """Set the account's three quotas at once; None clears one (Kafka then applies no quota for it)."""
    if not can_write_team(actor, sa.team):
        raise PermissionDenied("Only owners and members of the team can change its service accounts' quotas.")
    wanted = _checked(sa, {"producer_byte_rate": producer_byte_rate, "consumer_byte_rate": consumer_byte_rate,
                           "request_percentage": request_percentage})
    with transaction.atomic():
        sa = (ServiceAccount.objects.select_for_update(no_key=True, of=("self",))
              .select_related("team", "cluster").get(pk=sa.pk))
        if sa.wants_deletion or sa.status == ResourceStatus.DELETED:
            raise ValidationError({"__all__": ["This service account is being deleted."]})
        if all(getattr(sa, name) == value for name, value in wanted.items()):
            return sa
        if opened := gate(actor=actor, cluster=sa.cluster, team=sa.team, operation="service_account.quota",
                          payload={"service_account": sa.pk, **wanted}, via=via, target=sa,
                          title=f"Change the client quotas of {sa.username}", change_request=change_request):
            return opened
        before = service_account_snapshot(sa)
        for name, value in wanted.items():
            setattr(sa, name, value)
        sa.generation += 1
        sa.failures, sa.next_attempt_at, sa.last_error = 0, None, ""
        sa.status = ResourceStatus.PENDING
        sa.save()
        audit_record(actor=actor, via=via, action="service_account.quota", obj=sa, team=sa.team, before=before,
                     after=service_account_snapshot(sa))
    access_reconcile_soon(sa.cluster_id)
    return sa
