"""Decisions about schema drift (a subject changed in the registry outside the portal): revert or adopt."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ResourceStatus, Schema, SchemaVersion
from onboarding.permissions import is_team_owner
from onboarding.queue import schemas_reconcile_soon
from onboarding.services.catalogue import catalogue_refresh

ADOPTED_NOTE = "Adopted from the Schema Registry: registered outside the portal as registry version {version}."


def schema_snapshot(schema: Schema) -> dict:
    """The desired state of a schema as it is audited (before/after)."""
    return {
        "subject": schema.subject, "format": schema.format, "compatibility": schema.compatibility,
        "generation": schema.generation, "status": schema.status,
        "versions": [{"number": v.number, "fingerprint": v.fingerprint, "registry_version": v.registry_version}
                     for v in schema.versions.order_by("number")],
    }


def _decidable(actor, schema: Schema) -> Schema:
    """The schema locked for the decision; only its team's owners and operators decide about drift."""
    if not is_team_owner(actor, schema.topic.team):  # is_team_owner also admits operators
        raise PermissionDenied("Only the team's owners or platform operators decide about drift.")
    current = (Schema.objects.select_for_update(no_key=True, of=("self",))
               .select_related("topic__team", "topic__cluster").get(pk=schema.pk))
    if current.status != ResourceStatus.DRIFTED:
        raise ValidationError({"__all__": ["The schema has no drift to decide about."]})
    return current


def schema_revert(*, actor, schema: Schema, via: str = AuditEvent.Via.SYSTEM) -> Schema:
    """Drift: make the registry match the desired state again. The reconciler sets the level back,
    soft-deletes versions registered outside the portal and registers again what was deleted."""
    with transaction.atomic():
        schema = _decidable(actor, schema)
        drift = schema.drift
        # The drift stays on the row: it tells the reconciler what to undo. It is cleared once applied.
        schema.status = ResourceStatus.PENDING
        schema.failures, schema.next_attempt_at = 0, None
        schema.save(update_fields=["status", "failures", "next_attempt_at", "updated_at"])
        audit_record(actor=actor, via=via, action="schema.drift.revert", obj=schema, team=schema.topic.team,
                     before={"drift": drift}, after=schema_snapshot(schema))
        schemas_reconcile_soon(schema.topic.cluster_id)
    return schema


def schema_adopt(*, actor, schema: Schema, via: str = AuditEvent.Via.SYSTEM) -> Schema:
    """Drift: take what the registry has into the desired state. Versions registered outside the portal
    become the next versions, versions deleted there are dropped, the registry's level becomes the
    desired one; a deleted subject is recorded as deleted."""
    with transaction.atomic():
        schema = _decidable(actor, schema)
        before = schema_snapshot(schema)
        observed, now = schema.observed or {}, timezone.now()
        needs_apply = False
        if not observed.get("exists"):
            schema.status, schema.deleted_at, schema.delete_requested_at = ResourceStatus.DELETED, now, now
        else:
            kept = set(observed["versions"])
            schema.versions.filter(registry_version__isnull=False).exclude(registry_version__in=kept).delete()
            _adopt_versions(schema, observed["extra"], now)
            # A subject without a level of its own follows the registry's global one; the portal keeps an
            # explicit level per subject, so it takes the effective one and sets it (no change in behaviour).
            schema.compatibility = observed["compatibility"] or observed["effective_compatibility"]
            needs_apply = observed["compatibility"] is None
            schema.generation += 1
            if needs_apply:
                schema.status, schema.failures, schema.next_attempt_at = ResourceStatus.PENDING, 0, None
            else:
                schema.status, schema.ready_at = ResourceStatus.READY, now
                schema.observed_generation = schema.generation
        schema.drift, schema.observed, schema.last_error = None, None, ""
        schema.save()
        audit_record(actor=actor, via=via, action="schema.drift.adopt", obj=schema, team=schema.topic.team,
                     before=before, after=schema_snapshot(schema))
        catalogue_refresh([schema.topic_id])  # adopted versions may bring new fields
        if needs_apply:
            schemas_reconcile_soon(schema.topic.cluster_id)
    return schema


def _adopt_versions(schema: Schema, extra: list[dict], now) -> None:
    last = schema.versions.order_by("-number").values_list("number", flat=True).first() or 0
    SchemaVersion.objects.bulk_create([
        SchemaVersion(schema=schema, number=last + i, text=found["schema"], fingerprint=fingerprint(found["schema"]),
                      registry_id=found["id"], registry_version=found["version"], registered_at=now,
                      note=ADOPTED_NOTE.format(version=found["version"]))
        for i, found in enumerate(sorted(extra, key=lambda e: e["version"]), start=1)
    ])


def fingerprint(text: str) -> str:
    """SHA-256 of the text as the registry holds it (the registry canonicalises on its side)."""
    return hashlib.sha256(text.encode()).hexdigest()
