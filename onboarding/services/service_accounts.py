"""Service account services: a team's SCRAM principals on a cluster.

The password is generated here and shown once. It is kept only encrypted (Fernet, with a key
derived from SECRET_KEY) in ``pending_secret`` until the access reconciler has set the credential
on the cluster, which then wipes it. Audit records never contain it.
"""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.models import AuditEvent, Cluster, ResourceStatus, ServiceAccount, Subscription, Team
from onboarding.services.access import can_write_team
from onboarding.services.audit import audit_record
from onboarding.services.errors import PermissionDenied, ValidationError
from onboarding.services.scheduling import access_reconcile_soon
from portal.observability.tracing import service_span

# Changing the label makes every waiting secret unreadable: the accounts would need a rotation.
_KEY_INFO = b"portal/service-account-pending-secret/v1"


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(password: str) -> bytes:
    return _fernet(settings.SECRET_KEY).encrypt(password.encode("utf-8"))


def decrypt_pending_secret(sa: ServiceAccount) -> str | None:
    """The password waiting to be set on the cluster, None if there is none or it cannot be read
    (SECRET_KEY changed since: only a rotation helps)."""
    if not sa.pending_secret:
        return None
    try:
        return _fernet(settings.SECRET_KEY).decrypt(bytes(sa.pending_secret)).decode("utf-8")
    except InvalidToken:
        return None


def _new_password() -> str:
    return secrets.token_urlsafe(32)


def service_account_snapshot(sa: ServiceAccount) -> dict:
    """The audited state of an account: never the secret."""
    return {"username": sa.username, "team": sa.team.slug, "cluster": sa.cluster.name,
            "description": sa.description, "generation": sa.generation}


def _check_writer(actor, team: Team, verb: str) -> None:
    if not can_write_team(actor, team):
        raise PermissionDenied(f"Only owners and members of the team can {verb} its service accounts.")


@service_span
def service_account_create(*, actor, cluster: Cluster, team: Team, name: str, description: str = "",
                           via: str = AuditEvent.Via.SYSTEM) -> tuple[ServiceAccount, str]:
    """Register a SCRAM principal ``<team>.<name>``; returns the account and its password, to show once."""
    _check_writer(actor, team, "create")
    name = (name or "").strip()
    password = _new_password()
    sa = ServiceAccount(cluster=cluster, team=team, name=name, username=f"{team.slug}.{name}",
                        description=description, pending_secret=_encrypt(password))
    sa.full_clean(exclude=["pending_secret"])
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
    locked = ServiceAccount.objects.select_for_update().select_related("team", "cluster").get(pk=sa.pk)
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
def service_account_delete(*, actor, sa: ServiceAccount, via: str = AuditEvent.Via.SYSTEM) -> ServiceAccount:
    """Remove the credential and every ACL of the account; refused while approved subscriptions use it."""
    _check_writer(actor, sa.team, "delete")
    with transaction.atomic():
        sa = _locked(sa)
        users = list(active_subscriptions(sa).select_related("source"))
        if users:
            names = ", ".join(sorted({s.source.name for s in users}))
            raise ValidationError({"__all__": [f"Subscriptions still use this account (to {names}). Cancel them "
                                               "first."]})
        before = service_account_snapshot(sa)
        _mark_for_apply(sa)
        sa.status, sa.delete_requested_at, sa.pending_secret = ResourceStatus.DELETING, timezone.now(), None
        sa.save()
        audit_record(actor=actor, via=via, action="service_account.delete", obj=sa, team=sa.team, before=before)
    access_reconcile_soon(sa.cluster_id)
    return sa
