"""Append-only audit records for every change of desired state."""

from __future__ import annotations

from onboarding.history import context as history_context
from onboarding.models import AuditEvent


def audit_record(*, actor, via: str, action: str, obj, team=None, before=None, after=None, note: str = "") -> None:
    """Write the semantic record and label the rest of the request's row history with ``action``."""
    history_context.stamp(action=action)
    audit_event(actor=actor, via=via, action=action, obj=obj, team=team, before=before, after=after,
                note=note).save()


def audit_event(*, actor, via: str, action: str, obj, team=None, before=None, after=None,
                note: str = "") -> AuditEvent:
    """An unsaved record, for callers that insert many in one statement."""
    context_id, metadata = history_context.current()
    return AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor_name(actor),
        via=via,
        action=action,
        resource_type=obj._meta.model_name,
        resource_id=str(obj.pk),
        resource_name=str(obj),
        team=team,
        before=before,
        after=after,
        note=note,
        request_id=metadata.get("request_id") or "",
        context_id=context_id,
    )


def actor_name(actor) -> str:
    """How records name the actor: its user name, or what its request authenticated with when that says
    more (a team token: ``payments-automation (token pep_1a2b3c4d5e6f)``, set by the API's authentication)."""
    if actor is None or not actor.is_authenticated:
        return "system"
    return (getattr(actor, "audit_name", None) or actor.get_username())[:150]
