"""Compare ready schemas with the registry and flag what changed behind the portal's back:
versions registered (or deleted) by hand, a changed compatibility level, a deleted subject."""

from __future__ import annotations

import time
import uuid

from django.db import transaction
from django.utils import timezone

from onboarding.models import ApplyAttempt, Cluster, ResourceStatus, Schema, SchemaVersion
from onboarding.outbox import notify_drift
from onboarding.platform.connection import registry_connection_for
from onboarding.platform.registry import Registry
from onboarding.reconcile.topics_drift import DriftReport


def check_schema_drift(cluster_id: int) -> DriftReport:
    """Look at every settled schema of the cluster; raises PlatformError if the registry cannot be asked."""
    cluster = Cluster.objects.get(pk=cluster_id)
    schemas = list(Schema.objects.filter(topic__cluster=cluster, claim_token="",
                                         status__in=[ResourceStatus.READY, ResourceStatus.DRIFTED])
                   .select_related("topic__cluster", "topic__team"))
    report = DriftReport(checked=len(schemas))
    if not schemas:
        return report
    started, clock = timezone.now(), time.monotonic()
    desired = registered_versions(schemas)
    with Registry(registry_connection_for(cluster)) as registry:
        seen = {s.pk: observe(registry, s.subject, desired[s.pk]) for s in schemas}
    duration_ms = int((time.monotonic() - clock) * 1000)
    run_id, attempts = uuid.uuid4().hex, []
    for schema in schemas:
        difference = schema_drift(desired[schema.pk], schema.compatibility, seen[schema.pk])
        unchanged = Schema.objects.filter(pk=schema.pk, status=schema.status, generation=schema.generation,
                                          claim_token="")
        if difference is None:
            if schema.status == ResourceStatus.DRIFTED and unchanged.update(
                    status=ResourceStatus.READY, drift=None, observed=None, last_error=""):
                report.healed.append(schema.subject)
            continue
        if difference == schema.drift and schema.status == ResourceStatus.DRIFTED:
            continue  # already reported, waiting for a decision
        revert = schema.topic.effective_drift_reaction() == Cluster.DriftReaction.REVERT
        fields = {"drift": difference, "observed": seen[schema.pk], "last_error": describe(difference)}
        if revert:
            # The runner sees the drift and undoes it (see reconcile/schemas.py _undo_drift).
            fields.update(status=ResourceStatus.PENDING, next_attempt_at=None, failures=0)
        else:
            fields.update(status=ResourceStatus.DRIFTED)
        with transaction.atomic():
            changed = unchanged.update(**fields)
            if changed and schema.status != ResourceStatus.DRIFTED:  # told once, when it becomes drifted
                notify_drift(team=schema.topic.team, resource_type="schema", resource_id=schema.pk,
                             name=schema.subject, cluster=cluster.name, drift=difference,
                             description=fields["last_error"], reverting=revert)
        if changed:
            (report.reverting if revert else report.drifted).append(schema.subject)
            attempts.append(ApplyAttempt(
                topic=schema.topic, schema=schema, generation=schema.generation, outcome=ApplyAttempt.Outcome.DRIFTED,
                actions=["revert: re-apply the desired state"] if revert else [], error=fields["last_error"],
                started_at=started, duration_ms=duration_ms, run_id=run_id))
    ApplyAttempt.objects.bulk_create(attempts)
    return report


def registered_versions(schemas: list[Schema]) -> dict[int, list[int]]:
    """Per schema id, the registry version numbers the portal registered, in order (one query)."""
    found: dict[int, set[int]] = {s.pk: set() for s in schemas}
    rows = SchemaVersion.objects.filter(schema__in=schemas, registry_version__isnull=False)
    for schema_id, version in rows.values_list("schema_id", "registry_version"):
        found[schema_id].add(version)
    return {pk: sorted(versions) for pk, versions in found.items()}


def observe(registry: Registry, subject: str, desired_versions: list[int]) -> dict:
    """What the registry has for the subject, with the text of versions the portal did not register
    (so that adopting them needs no further call)."""
    versions = registry.versions(subject)
    if not versions:
        return {"exists": False, "versions": [], "compatibility": None, "extra": []}
    level = registry.get_compatibility(subject)
    extra = [registry.get_version(subject, v) for v in versions if v not in desired_versions]
    return {
        "exists": True, "versions": versions, "compatibility": level,
        # What the registry applies when the subject has no level of its own, for adopt.
        "effective_compatibility": level or registry.global_compatibility(),
        "extra": [{k: e[k] for k in ("version", "id", "schema", "schemaType")} for e in extra],
    }


def schema_drift(desired_versions: list[int], desired_compatibility: str, observed: dict) -> dict | None:
    """The difference between the desired and the observed subject, None when they agree. Pure."""
    if not observed["exists"]:
        # Nothing registered yet is no drift; registered versions that are all gone are.
        return {"exists": {"desired": True, "observed": False}} if desired_versions else None
    difference = {}
    if observed["versions"] != desired_versions:
        difference["versions"] = {"desired": desired_versions, "observed": observed["versions"]}
    if observed["compatibility"] != desired_compatibility:
        difference["compatibility"] = {"desired": desired_compatibility, "observed": observed["compatibility"]}
    return difference or None


def describe(difference: dict) -> str:
    if "exists" in difference:
        return "The subject was deleted in the Schema Registry outside the portal."
    parts = []
    if versions := difference.get("versions"):
        extra = sorted(set(versions["observed"]) - set(versions["desired"]))
        missing = sorted(set(versions["desired"]) - set(versions["observed"]))
        if extra:
            parts.append("version(s) " + ", ".join(map(str, extra)) + " registered outside the portal")
        if missing:
            parts.append("version(s) " + ", ".join(map(str, missing)) + " deleted outside the portal")
    if compatibility := difference.get("compatibility"):
        parts.append(f"compatibility {compatibility['desired']} desired, "
                     f"{compatibility['observed'] or 'not set (the global default)'} in the registry")
    return "Changed outside the portal: " + "; ".join(parts) + "."
