"""Sensitive-field services: a topic's team tags fields of its schemas (PHI, PII, secret, confidential),
so that every place the portal shows events (peek) masks them, and so does the event gateway on consume.

Tags are part of the desired state of the data's handling, so each change is audited like any other.
A path is accepted only when it exists in the schema's latest version; browser and API get the same
field-level error otherwise.

The gateway never reads Postgres: it masks what the access run writes to its grants table. So every change of
a tag queues an access run of the topic's cluster (routed copies, which inherit the tags, are on the same
cluster), and a re-tagged or untagged field reaches the gateways within seconds.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import transaction

from onboarding.audit import audit_record
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ResourceStatus, Schema, SensitiveField
from onboarding.permissions import can_write_team
from onboarding.queue import access_reconcile_soon
from onboarding.schemas._common import suggest
from onboarding.schemas.field_paths import field_paths
from onboarding.services.aggregation_outputs import outputs_follow_tags

Classification = SensitiveField.Classification


def _check_writer(actor, schema: Schema) -> None:
    if not can_write_team(actor, schema.topic.team):
        raise PermissionDenied("Only owners and members of the topic's team can tag its fields as sensitive.")


def latest_text(schema: Schema) -> tuple[int, str] | None:
    """(number, text) of the schema's latest version, or None before its first one."""
    latest = schema.versions.order_by("-number").values_list("number", "text").first()
    return tuple(latest) if latest else None


def path_error(schema: Schema, path: str, latest: tuple[int, str] | None | bool = False) -> str | None:
    """Why ``path`` cannot be tagged on ``schema`` (None when it can): the one text UI and API show.

    ``latest`` is the schema's (number, text) when the caller has it already (checking many paths)."""
    if not path:
        return "Name the field to tag, e.g. patient.ssn or visits[].code."
    latest = latest_text(schema) if latest is False else latest
    if latest is None:
        return f"{schema.subject} has no version yet, so it has no fields to tag."
    number, text = latest
    paths = _paths(schema.format, text)
    if path not in paths:
        return f"{schema.subject} has no field {path!r} in its latest version (v{number}){suggest(path, paths)}."
    return None


@lru_cache(maxsize=32)
def _paths(fmt: str, text: str) -> frozenset[str]:
    return frozenset(field_paths(text, fmt))


def _snapshot(tag: SensitiveField) -> dict:
    return {"subject": tag.schema.subject, "path": tag.path, "classification": tag.classification, "note": tag.note}


def sensitive_field_set(*, actor, schema: Schema, path: str, classification: str, note: str = "",
                        via: str = AuditEvent.Via.SYSTEM) -> SensitiveField:
    """Tag ``path`` of ``schema`` (or change its classification or note); returns the tag."""
    _check_writer(actor, schema)
    path, classification, note = (path or "").strip(), (classification or "").strip().lower(), (note or "").strip()
    errors: dict[str, list[str]] = {}
    if schema.status == ResourceStatus.DELETED or schema.wants_deletion:
        errors["schema"] = ["The schema is deleted or being deleted."]
    if classification not in Classification.values:
        errors["classification"] = [f"Choose one of {', '.join(Classification.values)}."]
    if problem := path_error(schema, path):
        errors["path"] = [problem]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        tag = SensitiveField.objects.select_for_update(no_key=True).filter(schema=schema, path=path).first()
        before = _snapshot(tag) if tag else None
        if tag is None:
            tag = SensitiveField(schema=schema, path=path)
        elif tag.classification == classification and tag.note == note:
            return tag
        tag.classification, tag.note = classification, note
        tag.tagged_by = actor if actor is not None and actor.is_authenticated else None
        tag.save()
        audit_record(actor=actor, via=via, action="schema.sensitive_field.set", obj=schema, team=schema.topic.team,
                     before=before, after=_snapshot(tag))
        access_reconcile_soon(schema.topic.cluster_id)
        # Classification follows data: the outputs of aggregations of this topic derive their tags from its tags.
        outputs_follow_tags(actor=actor, topic=schema.topic, via=via)
    return tag


def sensitive_field_clear(*, actor, schema: Schema, path: str, via: str = AuditEvent.Via.SYSTEM) -> None:
    """Remove the tag of ``path``: its values are shown again in peeks."""
    _check_writer(actor, schema)
    path = (path or "").strip()
    with transaction.atomic():
        tag = SensitiveField.objects.select_for_update(no_key=True).filter(schema=schema, path=path).first()
        if tag is None:
            raise NotFound(f"{path!r} of {schema.subject} is not tagged as sensitive.")
        before = _snapshot(tag)
        tag.delete()
        audit_record(actor=actor, via=via, action="schema.sensitive_field.clear", obj=schema,
                     team=schema.topic.team, before=before)
        access_reconcile_soon(schema.topic.cluster_id)
        outputs_follow_tags(actor=actor, topic=schema.topic, via=via)


def sensitive_fields_replace(*, actor, schema: Schema, fields: list[dict],
                             via: str = AuditEvent.Via.SYSTEM) -> list[SensitiveField]:
    """Make ``fields`` (each ``{"path", "classification", "note"}``) the schema's whole set of tags: tags left
    out are cleared. All or nothing: one bad entry refuses the set, with errors keyed ``fields[i].path``."""
    _check_writer(actor, schema)
    latest, wanted, errors = latest_text(schema), {}, {}
    for index, entry in enumerate(fields):
        path = str(entry.get("path") or "").strip()
        classification = str(entry.get("classification") or "").strip().lower()
        if problem := path_error(schema, path, latest):
            errors[f"fields[{index}].path"] = [problem]
        elif path in wanted:
            errors[f"fields[{index}].path"] = [f"{path!r} is listed twice."]
        if classification not in Classification.values:
            errors[f"fields[{index}].classification"] = [f"Choose one of {', '.join(Classification.values)}."]
        wanted[path] = (classification, str(entry.get("note") or "").strip())
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        stale = (SensitiveField.objects.select_for_update(no_key=True).filter(schema=schema)
                 .exclude(path__in=list(wanted)))
        for tag in stale:
            sensitive_field_clear(actor=actor, schema=schema, path=tag.path, via=via)
        for path, (classification, note) in wanted.items():
            sensitive_field_set(actor=actor, schema=schema, path=path, classification=classification, note=note,
                                via=via)
    return list(schema.sensitive_fields.order_by("path"))
