"""Service account services: a team's SCRAM principals on a cluster.

The password is generated here and shown once. It is kept only encrypted (Fernet, with a key
derived from SECRET_KEY) in ``pending_secret`` until the access reconciler has set the credential
on the cluster, which then wipes it. Audit records never contain it.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.crypto import PENDING_SCRAM_PASSWORD, decrypt_secret, encrypt_secret
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, Cluster, ResourceStatus, ServiceAccount, Subscription, Team
from onboarding.permissions import can_write_team
from onboarding.queue import access_reconcile_soon
from portal.observability.tracing import service_span

# Changing the label makes every waiting secret unreadable: the accounts would need a rotation.


def _encrypt(password: str) -> bytes:
    return encrypt_secret(password, purpose=PENDING_SCRAM_PASSWORD)


def decrypt_pending_secret(sa: ServiceAccount) -> str | None:
    """The password waiting to be set on the cluster, None if there is none or it cannot be read
    (SECRET_KEY changed since: only a rotation helps)."""
    return decrypt_secret(sa.pending_secret, purpose=PENDING_SCRAM_PASSWORD)


def _new_password() -> str:
    return secrets.token_urlsafe(32)


def service_account_snapshot(sa: ServiceAccount) -> dict:
    """The audited state of an account: never the secret."""
    return {"username": sa.username, "team": sa.team.slug, "cluster": sa.cluster.name,
            "description": sa.description, "can_consume_own_topics": sa.can_consume_own_topics,
            "acl_exceptions": sa.acl_exceptions or {}, "quota": sa.quota, "generation": sa.generation}


def _check_writer(actor, team: Team, verb: str) -> None:
    if not can_write_team(actor, team):
        raise PermissionDenied(f"Only owners and members of the team can {verb} its service accounts.")


@service_span
def service_account_create(*, actor, cluster: Cluster, team: Team, name: str, description: str = "",
                           can_consume_own_topics: bool = True, via: str = AuditEvent.Via.SYSTEM,
                           change_request: ChangeRequest | None = None) -> tuple[ServiceAccount, str] | ChangeRequest:
    """Register a SCRAM principal ``<team>.<name>``; returns the account and its password, to show once.

    A cluster whose change policy gates ``service_account.create`` gets a ChangeRequest back instead; the
    password generated when it is applied is shown to nobody, so the team rotates it to get one.
    """
    _check_writer(actor, team, "create")
    name = (name or "").strip()
    password = _new_password()
    sa = ServiceAccount(cluster=cluster, team=team, name=name, username=f"{team.slug}.{name}",
                        description=description, can_consume_own_topics=bool(can_consume_own_topics),
                        pending_secret=_encrypt(password))
    sa.full_clean(exclude=["pending_secret"])
    if opened := gate(actor=actor, cluster=cluster, team=team, operation="service_account.create", via=via,
                      payload={"cluster": cluster.pk, "team": team.pk, "name": name, "description": description,
                               "can_consume_own_topics": sa.can_consume_own_topics},
                      title=f"Create service account {sa.username} on {cluster.name}", change_request=change_request):
        return opened
    try:
        with transaction.atomic():
            sa.save()
            audit_record(actor=actor, via=via, action="service_account.create", obj=sa, team=team,
                         after=service_account_snapshot(sa))
    except IntegrityError:
        raise ValidationError({"name": ["This team already has a service account with this name on this "
                                        "cluster."]}) from None
    access_reconcile_soon(cluster.pk)
    return sa, password


def _locked(sa: ServiceAccount) -> ServiceAccount:
    locked = (ServiceAccount.objects.select_for_update(no_key=True, of=("self",))
              .select_related("team", "cluster").get(pk=sa.pk))
    if locked.wants_deletion or locked.status == ResourceStatus.DELETED:
        raise ValidationError({"__all__": ["This service account is being deleted."]})
    return locked


def _mark_for_apply(sa: ServiceAccount) -> None:
    sa.generation += 1
    sa.failures, sa.next_attempt_at, sa.last_error = 0, None, ""


@service_span
def service_account_rotate(*, actor, sa: ServiceAccount, via: str = AuditEvent.Via.SYSTEM
                           ) -> tuple[ServiceAccount, str]:
    """A new password (shown once); the old one stops working when the reconciler sets the new one."""
    _check_writer(actor, sa.team, "rotate")
    password = _new_password()
    with transaction.atomic():
        sa = _locked(sa)
        _mark_for_apply(sa)
        sa.status, sa.pending_secret = ResourceStatus.PENDING, _encrypt(password)
        sa.save()
        audit_record(actor=actor, via=via, action="service_account.rotate", obj=sa, team=sa.team,
                     after=service_account_snapshot(sa), note="New password generated.")
    access_reconcile_soon(sa.cluster_id)
    return sa, password


def active_subscriptions(sa: ServiceAccount):
    return Subscription.objects.filter(service_account=sa, decision=Subscription.Decision.APPROVED,
                                       delete_requested_at__isnull=True).exclude(status=ResourceStatus.DELETED)


@service_span
def service_account_delete(*, actor, sa: ServiceAccount, via: str = AuditEvent.Via.SYSTEM,
                           change_request: ChangeRequest | None = None) -> ServiceAccount | ChangeRequest:
    """Remove the credential and every ACL of the account; refused while approved subscriptions use it.
    A cluster whose change policy gates ``service_account.delete`` gets a ChangeRequest back instead."""
    _check_writer(actor, sa.team, "delete")
    with transaction.atomic():
        sa = _locked(sa)
        users = list(active_subscriptions(sa).select_related("source"))
        if users:
            names = ", ".join(sorted({s.source.name for s in users}))
            raise ValidationError({"__all__": [f"Subscriptions still use this account (to {names}). Cancel them "
                                               "first."]})
        if opened := gate(actor=actor, cluster=sa.cluster, team=sa.team, operation="service_account.delete",
                          payload={"service_account": sa.pk}, via=via, title=f"Delete service account {sa.username}",
                          target=sa, change_request=change_request):
            return opened
        before = service_account_snapshot(sa)
        _mark_for_apply(sa)
        sa.status, sa.delete_requested_at, sa.pending_secret = ResourceStatus.DELETING, timezone.now(), None
        sa.save()
        audit_record(actor=actor, via=via, action="service_account.delete", obj=sa, team=sa.team, before=before)
    access_reconcile_soon(sa.cluster_id)
    return sa


def service_account_update(*, actor, sa: ServiceAccount, description: str | None = None,
                           can_consume_own_topics: bool | None = None,
                           via: str = AuditEvent.Via.SYSTEM) -> ServiceAccount:
    """Change an account's description or whether it may consume its team's own topics. A description
    changes nothing on the cluster, so the generation moves in place (a change request planned on the old one
    is stale) without work for the reconciler; the consume choice changes its ACLs, so it gets a new
    generation for the access reconciler. A field left None is not changed."""
    _check_writer(actor, sa.team, "change")
    with transaction.atomic():
        sa = _locked(sa)
        before = service_account_snapshot(sa)
        fields = []
        if description is not None and sa.description != description:
            sa.description = description
            fields.append("description")
        acls_change = can_consume_own_topics is not None and sa.can_consume_own_topics != bool(can_consume_own_topics)
        if acls_change and not can_consume_own_topics and (routed := sorted(
                active_subscriptions(sa).filter(mode=Subscription.Mode.ROUTED)
                .values_list("destination__name", flat=True))):
            raise ValidationError({"can_consume_own_topics": [
                f"Routed subscriptions deliver to {', '.join(n or '?' for n in routed)} for this account to read: "
                "it must keep consuming the team's topics."]})
        if acls_change:
            sa.can_consume_own_topics = bool(can_consume_own_topics)
            _mark_for_apply(sa)
            sa.status = ResourceStatus.PENDING
            fields = None  # the whole row: generation and status too
        elif not fields:
            return sa
        if fields is None:
            sa.save()
        else:
            sa.bump_generation_in_place()
            sa.save(update_fields=[*fields, "generation", "observed_generation", "claimed_generation",
                                   "updated_at"])
        audit_record(actor=actor, via=via, action="service_account.update", obj=sa, team=sa.team, before=before,
                     after=service_account_snapshot(sa))
    if acls_change:
        access_reconcile_soon(sa.cluster_id)
    return sa
