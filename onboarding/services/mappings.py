"""Normalization mappings: the one write path (create, new version, delete) and the save checks they share with
the editor's preview (``mappings_check.py``).

Every save stores a new MappingVersion only after the rules passed every check against the source's and the
canonical topic's schema versions (types, required coverage, compile). The mapper then runs the mapping's
current version (``mapping_table.py``), so a saved rule list is data, compiled by the mapper, never code.
Saving also tags canonical fields fed by sensitive source fields (``mappings_classification.py``).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import (
    AuditEvent,
    CanonicalTopic,
    ChangeRequest,
    Mapping,
    MappingVersion,
    ResourceStatus,
    Team,
    Topic,
)
from onboarding.permissions import can_write_team, is_operator, is_team_owner
from onboarding.queue import mappings_reconcile_soon
from onboarding.services.mappings_check import MappingCheck, mapping_check
from onboarding.services.mappings_classification import propagate_tags
from portal.observability.tracing import service_span

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
NAME_RULE = "Use lowercase letters, digits and '-', starting with a letter (at most 100)."
GONE = "This mapping is deleted or being deleted."
TAKEN = "This team already has a mapping with this name on this cluster."


def mapping_snapshot(m: Mapping) -> dict:
    v = m.current_version
    return {"id": m.mapping_id, "cluster": m.cluster.name, "source_topic": m.source_topic.name,
            "canonical_topic": m.canonical_topic.name, "description": m.description,
            "version": v.number if v else None, "rules": v.rules if v else [],
            "source_schema_version": v.source_schema_version.number if v else None,
            "canonical_schema_version": v.canonical_schema_version.number if v else None,
            "code_tables": sorted(f"{t.table.name} v{t.number}" for t in v.code_tables.all()) if v else [],
            "generation": m.generation}


def _check_writer(actor, team: Team, what: str) -> None:
    if not can_write_team(actor, team):
        raise PermissionDenied(f"Only owners and members of the team can {what} its mappings.")


def _name_errors(name, *, team: Team, cluster) -> list[str]:
    if not isinstance(name, str) or not name:
        return ["Enter a name."]
    if len(name) > 100 or not _NAME.fullmatch(name):
        return [NAME_RULE]
    if Mapping.objects.filter(cluster=cluster, team=team, name=name).exclude(status=ResourceStatus.DELETED).exists():
        return [TAKEN]
    return []


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _store_version(*, actor, mapping: Mapping, check: MappingCheck, note: str) -> MappingVersion:
    number = (mapping.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = MappingVersion.objects.create(
        mapping=mapping, number=number, source_schema_version=check.source_version,
        canonical_schema_version=check.canonical_version, rules=check.rules_json, coverage=check.coverage,
        note=note, author=actor if actor is not None and actor.is_authenticated else None)
    version.code_tables.set(check.tables.values())
    mapping.current_version = version
    return version


def _mark_for_apply(m: Mapping) -> None:
    m.generation += 1
    m.status = ResourceStatus.PENDING
    m.failures, m.next_attempt_at, m.last_error, m.drift = 0, None, "", None


def _locked(m: Mapping, expected_generation: int | None) -> Mapping:
    current = (Mapping.objects.select_for_update(no_key=True, of=("self",))
               .select_related("cluster", "team", "source_topic", "canonical_topic").get(pk=m.pk))
    if expected_generation is not None and current.generation != expected_generation:
        raise Conflict(f"The mapping changed since you loaded it (now at generation {current.generation}, you had "
                       f"{expected_generation}). Reload it and apply your change again.",
                       current_generation=current.generation)
    if current.status == ResourceStatus.DELETED or current.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    return current


# ----------------------------------------------------------------------------------------------- mappings

@service_span
def mapping_create(*, actor, team: Team, name: str, source_topic: Topic, canonical_topic: Topic, rules,
                   description: str = "", note: str = "", source_version: int | None = None,
                   canonical_version: int | None = None, via: str = AuditEvent.Via.SYSTEM,
                   change_request: ChangeRequest | None = None,
                   promoted_from: Mapping | None = None) -> Mapping | ChangeRequest:
    """Declare a mapping with its first version; refused with every problem by path when a check fails."""
    _check_writer(actor, team, "declare")
    name = name.strip() if isinstance(name, str) else name
    cluster = source_topic.cluster
    check = mapping_check(team=team, source_topic=source_topic, canonical_topic=canonical_topic, rules=rules,
                          source_version=source_version, canonical_version=canonical_version)
    errors = dict(check.errors)
    if problems := _name_errors(name, team=team, cluster=cluster):
        errors["name"] = problems
    _raise_if(errors)
    if opened := gate(actor=actor, cluster=cluster, team=team, operation="mapping.create",
                      payload={"team": team.pk, "name": name, "source_topic": source_topic.pk,
                               "canonical_topic": canonical_topic.pk, "rules": check.rules_json,
                               "description": description, "note": note,
                               "source_version": check.source_version.number,
                               "canonical_version": check.canonical_version.number},
                      via=via, title=f"Declare mapping {team.slug}.{name}", change_request=change_request):
        return opened
    try:
        with transaction.atomic():
            m = Mapping.objects.create(cluster=cluster, team=team, name=name, description=description,
                                       source_topic=source_topic, canonical_topic=canonical_topic,
                                       status=ResourceStatus.PENDING, promoted_from=promoted_from)
            version = _store_version(actor=actor, mapping=m, check=check, note=note)
            m.save(update_fields=["current_version"])
            tagged = propagate_tags(actor=actor, via=via, version=version)
            audit_record(actor=actor, via=via, action="mapping.create", obj=m, team=team,
                         after=mapping_snapshot(m), note=_tagged_note(tagged))
    except IntegrityError as exc:
        if "mapping_unique_live_name" in str(exc):
            raise ValidationError({"name": [TAKEN]}) from None
        raise
    mappings_reconcile_soon(cluster.pk)
    return m


@service_span
def mapping_update(*, actor, mapping: Mapping, rules=None, description: str | None = None, note: str = "",
                   source_version: int | None = None, canonical_version: int | None = None,
                   expected_generation: int | None = None, via: str = AuditEvent.Via.SYSTEM,
                   change_request: ChangeRequest | None = None) -> Mapping | ChangeRequest:
    """A new version (new rules, or the same rules against newer schema versions), checked like create; a
    description alone is edited in place."""
    _check_writer(actor, mapping.team, "change")
    if mapping.status == ResourceStatus.DELETED or mapping.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    current = mapping.current_version
    new_version = rules is not None or source_version is not None or canonical_version is not None
    check = None
    if new_version:
        check = mapping_check(team=mapping.team, source_topic=mapping.source_topic,
                              canonical_topic=mapping.canonical_topic,
                              rules=current.rules if rules is None else rules,
                              source_version=source_version, canonical_version=canonical_version)
        _raise_if(check.errors)
        if opened := gate(actor=actor, cluster=mapping.cluster, team=mapping.team, operation="mapping.update",
                          payload={"mapping": mapping.pk, "rules": check.rules_json, "note": note,
                                   "description": description, "source_version": check.source_version.number,
                                   "canonical_version": check.canonical_version.number},
                          via=via, title=f"New version of mapping {mapping.mapping_id}", target=mapping,
                          change_request=change_request):
            return opened
    with transaction.atomic():
        m = _locked(mapping, expected_generation)
        before = mapping_snapshot(m)
        if description is not None:
            m.description = description
        tagged = []
        if check is not None:
            version = _store_version(actor=actor, mapping=m, check=check, note=note)
            _mark_for_apply(m)
            tagged = propagate_tags(actor=actor, via=via, version=version)
        else:
            m.bump_generation_in_place()
        m.save()
        audit_record(actor=actor, via=via, action="mapping.update", obj=m, team=m.team, before=before,
                     after=mapping_snapshot(m), note=_tagged_note(tagged))
    if check is not None:
        mappings_reconcile_soon(m.cluster_id)
    return m


@service_span
def mapping_delete(*, actor, mapping: Mapping, via: str = AuditEvent.Via.SYSTEM,
                   change_request: ChangeRequest | None = None) -> Mapping | ChangeRequest:
    """Stop the mapper running it (the reconciler removes its row); the record and its versions are kept."""
    _check_writer(actor, mapping.team, "delete")
    if mapping.status == ResourceStatus.DELETED or mapping.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    if opened := gate(actor=actor, cluster=mapping.cluster, team=mapping.team, operation="mapping.delete",
                      payload={"mapping": mapping.pk}, via=via, title=f"Delete mapping {mapping.mapping_id}",
                      target=mapping, change_request=change_request):
        return opened
    with transaction.atomic():
        m = _locked(mapping, None)
        before = mapping_snapshot(m)
        _mark_for_apply(m)
        m.status = ResourceStatus.DELETING
        m.delete_requested_at = timezone.now()
        m.save()
        audit_record(actor=actor, via=via, action="mapping.delete", obj=m, team=m.team, before=before)
    mappings_reconcile_soon(m.cluster_id)
    return m


@service_span
def mapping_rollback(*, actor, mapping: Mapping, number: int, via: str = AuditEvent.Via.SYSTEM,
                     expected_generation: int | None = None) -> Mapping | ChangeRequest:
    """A new version with the rules of version ``number``, checked again against the schemas it named."""
    old = mapping.versions.filter(number=number).select_related("source_schema_version",
                                                                "canonical_schema_version").first()
    if old is None:
        raise ValidationError({"version": [f"{mapping.mapping_id} has no version {number}."]})
    return mapping_update(actor=actor, mapping=mapping, rules=old.rules, note=f"rollback to version {number}",
                          source_version=old.source_schema_version.number,
                          canonical_version=old.canonical_schema_version.number,
                          expected_generation=expected_generation, via=via)


def _tagged_note(tagged: list[str]) -> str:
    return f"tagged canonical fields: {', '.join(tagged)}" if tagged else ""


# ----------------------------------------------------------------------------------------------- promotion

@service_span
def mapping_promote(*, actor, mapping: Mapping, cluster, via: str = AuditEvent.Via.SYSTEM) -> Mapping | ChangeRequest:
    """The same rules on ``cluster`` (dev -> prod): the topics of the same names there, their latest schema
    versions, checked again there. Creates the team's mapping of the same name there or gives it a new version;
    gated by the target cluster's policy like any create or update there."""
    _check_writer(actor, mapping.team, "promote")
    current = mapping.current_version
    if current is None or mapping.wants_deletion or mapping.status == ResourceStatus.DELETED:
        raise ValidationError({"__all__": [GONE]})
    if cluster.pk == mapping.cluster_id:
        raise ValidationError({"cluster": ["Choose another cluster than the mapping's own."]})
    topics = {t.name: t for t in Topic.objects.filter(cluster=cluster, name__in=[
        mapping.source_topic.name, mapping.canonical_topic.name]).exclude(status=ResourceStatus.DELETED)}
    errors = {}
    for field, name in (("source_topic", mapping.source_topic.name), ("canonical_topic", mapping.canonical_topic.name)):
        if name not in topics:
            errors[field] = [f"{cluster.name} has no topic {name}; promote the topic first."]
    _raise_if(errors)
    there = (Mapping.objects.filter(cluster=cluster, team=mapping.team, name=mapping.name)
             .exclude(status=ResourceStatus.DELETED).first())
    note = f"promoted from {mapping.cluster.name} version {current.number}"
    if there is None:
        result = mapping_create(actor=actor, team=mapping.team, name=mapping.name,
                                source_topic=topics[mapping.source_topic.name],
                                canonical_topic=topics[mapping.canonical_topic.name], rules=current.rules,
                                description=mapping.description, note=note, via=via, promoted_from=mapping)
    else:
        result = mapping_update(actor=actor, mapping=there, rules=current.rules, note=note, via=via)
    if isinstance(result, Mapping):
        audit_record(actor=actor, via=via, action="mapping.promote", obj=mapping, team=mapping.team,
                     after={"to": cluster.name, "version": result.current_version.number}, note=note)
    return result


# ----------------------------------------------------------------------------------------------- canonical topics

def _check_governor(actor, topic: Topic) -> None:
    if not (is_operator(actor) or is_team_owner(actor, topic.team)):
        raise PermissionDenied("Only platform operators and the owners of the topic's team mark it canonical.")


@service_span
def canonical_topic_mark(*, actor, topic: Topic, description: str = "",
                         via: str = AuditEvent.Via.SYSTEM) -> CanonicalTopic:
    """Make ``topic`` a canonical schema: mappings may write into it, and its schema changes need four eyes."""
    _check_governor(actor, topic)
    if topic.status == ResourceStatus.DELETED or topic.wants_deletion:
        raise ValidationError({"topic": ["This topic is deleted or being deleted."]})
    with transaction.atomic():
        canonical, created = CanonicalTopic.objects.get_or_create(
            topic=topic, defaults={"description": description,
                                   "marked_by": actor if actor and actor.is_authenticated else None})
        if not created:
            raise ValidationError({"topic": [f"{topic.name} is already canonical."]})
        audit_record(actor=actor, via=via, action="topic.canonical.mark", obj=topic, team=topic.team,
                     after={"canonical": True, "description": description})
    return canonical


@service_span
def canonical_topic_unmark(*, actor, topic: Topic, via: str = AuditEvent.Via.SYSTEM) -> None:
    """Refused while live mappings write into it: they would lose the standard they were checked against."""
    _check_governor(actor, topic)
    users = Mapping.objects.filter(canonical_topic=topic, delete_requested_at__isnull=True) \
        .exclude(status=ResourceStatus.DELETED).select_related("team")
    if users.exists():
        raise ValidationError({"topic": ["Mappings write into it: "
                                          f"{', '.join(m.mapping_id for m in users)}. Delete them first."]})
    with transaction.atomic():
        deleted, _ = CanonicalTopic.objects.filter(topic=topic).delete()
        if not deleted:
            raise ValidationError({"topic": [f"{topic.name} is not canonical."]})
        audit_record(actor=actor, via=via, action="topic.canonical.unmark", obj=topic, team=topic.team,
                     before={"canonical": True})
