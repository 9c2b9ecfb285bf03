"""Bring topics that already exist on a cluster under the portal's management, without recreating them.

Their registry subjects (``<topic>-key``, ``<topic>-value``) come along: each becomes a schema whose
versions are the registry's, already registered, so the schema reconciler only confirms them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, Cluster, Compatibility, ResourceStatus, Schema, SchemaVersion, Team, Topic
from onboarding.permissions import is_operator
from onboarding.platform.connection import kafka_connection_for, registry_connection_for
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import KafkaAdmin
from onboarding.platform.registry import SYNTAX_PROBE_PREFIX, Registry
from onboarding.queue import reconcile_soon, schemas_reconcile_soon
from onboarding.reconcile.topics_plan import ObservedTopic
from onboarding.schemas.validation import fingerprint
from onboarding.services import team_quotas
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.schemas_drift import schema_snapshot
from onboarding.services.topics import policy_for, topic_snapshot

IMPORTED_VERSION_NOTE = "Imported from the registry."
SIDES = tuple(Schema.Side.values)


class ImportedTopics(list):
    """The imported topics (a list, as before), with what happened to their registry subjects."""

    schemas: list[Schema]
    registry_problem: str  # why subjects were not imported (registry unreachable), "" when they were looked at

    def __init__(self, topics=(), *, schemas=(), registry_problem: str = ""):
        super().__init__(topics)
        self.schemas, self.registry_problem = list(schemas), registry_problem


@dataclass
class _Subject:
    """A registry subject as read before the import: its format, level and versions in registry order."""

    side: str
    format: str
    compatibility: str
    versions: list[dict] = field(default_factory=list)


def unmanaged_topics(cluster: Cluster) -> list[ObservedTopic]:
    """Topics on the cluster that no live portal record manages (raises PlatformError if unreachable)."""
    admin = KafkaAdmin(kafka_connection_for(cluster))
    managed = set(Topic.objects.filter(cluster=cluster).exclude(status=ResourceStatus.DELETED)
                  .values_list("name", flat=True))
    names = admin.list_topic_names() - managed - _reserved_names()
    observed = admin.describe_topics(names)
    return sorted(observed.values(), key=lambda t: t.name)


def registry_subjects_for(cluster: Cluster, names) -> dict[str, list[str]]:
    """Per topic name, the sides (key, value) that have a subject in the cluster's registry; one GET /subjects.

    Topics without subjects are left out. Raises PlatformError if the registry cannot be asked.
    """
    with Registry(registry_connection_for(cluster)) as registry:
        subjects = {s for s in registry.subjects() if not s.startswith(SYNTAX_PROBE_PREFIX)}
    found = {name: [side for side in SIDES if f"{name}-{side}" in subjects] for name in names}
    return {name: sides for name, sides in found.items() if sides}


def _reserved_names() -> set[str]:
    """Topics the platform itself runs on; never handed to a team."""
    return {"_schemas", "kafkasql-journal", "__consumer_offsets", "__transaction_state"}


def topics_import(*, actor, cluster: Cluster, team: Team, names: list[str],
                  via: str = AuditEvent.Via.SYSTEM) -> ImportedTopics:
    """Operators assign existing topics to a team; their current shape becomes the desired state, and their
    registry subjects become the topics' schemas. An unreachable registry does not stop the topic import:
    the returned list's ``registry_problem`` and the topics' audit notes say that the subjects were skipped."""
    if not is_operator(actor):
        raise PermissionDenied("Only platform operators can import topics.")
    if not names:
        raise ValidationError({"names": ["Choose at least one topic to import."]})
    if not cluster.is_active:
        raise ValidationError({"cluster": ["This cluster is not accepting changes."]})
    available = {t.name: t for t in unmanaged_topics(cluster)}
    missing = sorted(set(names) - set(available))
    if missing:
        raise ValidationError({"names": [f"Not on the cluster or already managed: {', '.join(missing)}."]})
    # Imported topics count against the team's quota like new ones: an operator raises the quota first if needed.
    chosen = [available[name] for name in sorted(set(names))]
    if over := team_quotas.quota_errors(
            cluster, team, topics=len(chosen), partitions=sum(t.partitions for t in chosen),
            disk_bytes=sum(team_quotas.disk_of(t.partitions, dict(t.configs), cluster, team) for t in chosen)):
        raise ValidationError({"names": [m.removeprefix("retention.bytes: ") for ms in over.values() for m in ms]})
    allowed_keys = set(policy_for(cluster).config_rules)
    # Read the registry before the transaction: no row lock is held while waiting for HTTP answers.
    subjects, registry_problem = _read_subjects(cluster, sorted(set(names)))
    imported = ImportedTopics(registry_problem=registry_problem)
    with transaction.atomic():
        for name in sorted(set(names)):
            seen = available[name]
            topic = Topic.objects.create(
                cluster=cluster, team=team, name=name, partitions=seen.partitions,
                replication_factor=seen.replication_factor, configs=dict(seen.configs),
                description="Imported from the cluster.", status=ResourceStatus.PENDING)
            note = "; ".join(filter(None, [_note_for(seen, allowed_keys), _registry_note(registry_problem)]))
            audit_record(actor=actor, via=via, action="topic.import", obj=topic, team=team,
                         after=topic_snapshot(topic), note=note)
            imported.append(topic)
            for subject in subjects.get(name, []):
                imported.schemas.append(_import_schema(actor, via, topic, subject))
        catalogue_refresh([topic.pk for topic in imported])
    reconcile_soon(cluster.pk)
    if imported.schemas:
        schemas_reconcile_soon(cluster.pk)
    return imported


def _read_subjects(cluster: Cluster, names: list[str]) -> tuple[dict[str, list[_Subject]], str]:
    """The topics' subjects as the registry has them, or ({}, why) when it cannot be asked."""
    try:
        with Registry(registry_connection_for(cluster)) as registry:
            existing = set(registry.subjects())
            global_level = None
            found: dict[str, list[_Subject]] = {}
            for name in names:
                for side in SIDES:
                    subject = f"{name}-{side}"
                    if subject not in existing:
                        continue
                    versions = [registry.get_version(subject, v) for v in registry.versions(subject)]
                    if not versions:
                        continue  # soft-deleted meanwhile
                    level = registry.get_compatibility(subject)
                    if level is None:
                        global_level = global_level or registry.global_compatibility()
                        level = global_level
                    if level not in Compatibility.values:
                        level = policy_for(cluster).default_compatibility or Compatibility.BACKWARD
                    found.setdefault(name, []).append(_Subject(
                        side=side, format=versions[-1]["schemaType"] or "AVRO", compatibility=level,
                        versions=versions))
    except PlatformError as exc:
        return {}, str(exc)
    return found, ""


def _import_schema(actor, via: str, topic: Topic, subject: _Subject) -> Schema:
    now = timezone.now()
    schema = Schema.objects.create(topic=topic, side=subject.side, format=subject.format,
                                   compatibility=subject.compatibility, status=ResourceStatus.PENDING)
    SchemaVersion.objects.bulk_create([
        SchemaVersion(schema=schema, number=number, text=found["schema"],
                      fingerprint=_fingerprint(found["schema"], subject.format), registry_id=found["id"],
                      registry_version=found["version"], registered_at=now, note=IMPORTED_VERSION_NOTE)
        for number, found in enumerate(subject.versions, start=1)
    ])
    audit_record(actor=actor, via=via, action="schema.import", obj=schema, team=topic.team,
                 after=schema_snapshot(schema),
                 note=f"Imported from the Schema Registry with {len(subject.versions)} version(s).")
    return schema


def _fingerprint(text: str, fmt: str) -> str:
    try:
        return fingerprint(text, fmt)
    except (ValueError, RecursionError):
        # The registry accepted it, but the local checks cannot read it (an import or an unusual construct):
        # the raw text's digest still finds exact duplicates.
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _registry_note(problem: str) -> str:
    if not problem:
        return ""
    return f"Schema Registry subjects were not imported because the registry could not be read: {problem}"


def _note_for(seen: ObservedTopic, allowed_keys) -> str:
    outside = sorted(set(seen.configs) - set(allowed_keys))
    if outside:
        return "Kept configs that teams cannot normally set: " + ", ".join(outside)
    return ""
