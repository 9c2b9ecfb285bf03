"""Make the Schema Registry match the desired schemas in Postgres: claim, apply per subject, record.

One run per cluster handles every due schema with one registry session. The registry has no batch
API, so subjects are applied one after the other; when the registry cannot be reached the rest of
the run fails at once rather than waiting out a timeout per subject. Every step is idempotent
(look a schema up before registering it, compare the level before setting it), so a run that dies
half-way is simply run again.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.utils import timezone

from onboarding.models import ApplyAttempt, Cluster, ResourceStatus, Schema, SchemaVersion
from onboarding.platform import PlatformError
from onboarding.platform.connection import registry_connection_for
from onboarding.platform.registry import Registry
from onboarding.reconcile import claims
from onboarding.reconcile.claims import RunReport

log = logging.getLogger(__name__)
# Errors that say the registry itself is away, not that one subject has a problem.
OUTAGE_CODES = {"unreachable", "timeout"}
# Versions added while a run registers the earlier ones are picked up by this many extra passes.
REGISTER_PASSES = 3


def due_schemas(cluster_id: int):
    """The cluster's schemas that a run should pick up now (see claims.due)."""
    return claims.due(Schema.objects.filter(topic__cluster_id=cluster_id))


def reconcile_schemas(cluster_id: int) -> RunReport:
    report = RunReport(run_id=uuid.uuid4().hex)
    schemas = claims.claim(due_schemas(cluster_id), report.run_id, related=("topic__cluster",))
    report.claimed = len(schemas)
    if not schemas:
        return report
    schemas.sort(key=lambda s: (s.topic.name, s.side))
    cluster = Cluster.objects.get(pk=cluster_id)
    outage: PlatformError | None = None
    registry = None
    try:
        registry = Registry(registry_connection_for(cluster))
    except PlatformError as exc:  # a secret reference that does not resolve
        outage = exc
    attempts, done, gone = [], [], []
    try:
        for schema in schemas:
            started, clock, actions = timezone.now(), time.monotonic(), []
            error = outage
            if error is None:
                try:
                    (_delete if schema.wants_deletion else _apply)(registry, schema, actions)
                except PlatformError as exc:
                    error = exc
                    if exc.code in OUTAGE_CODES:
                        outage = exc
            if error is None:
                (gone if schema.wants_deletion else done).append(schema.id)
                outcome = ApplyAttempt.Outcome.READY
            else:
                outcome = ApplyAttempt.Outcome.FAILED if error.retryable else ApplyAttempt.Outcome.REFUSED
                # A refused deletion waits for a change (the referencing schemas going away): it is failed,
                # not in progress.
                status = ResourceStatus.FAILED if not error.retryable else None
                claims.record_failure(Schema, schema, error, timezone.now(), report, key=schema.subject,
                                      status=status)
            attempts.append(ApplyAttempt(
                topic=schema.topic, schema=schema, generation=schema.claimed_generation, actions=actions,
                outcome=outcome, error=str(error or ""), started_at=started,
                duration_ms=int((time.monotonic() - clock) * 1000), run_id=report.run_id))
    finally:
        if registry is not None:
            registry.close()
    ApplyAttempt.objects.bulk_create(attempts)
    claims.settle(Schema, report, done=done, gone=gone, now=timezone.now())
    return report


def _apply(registry: Registry, schema: Schema, actions: list[str]) -> None:
    subject = schema.subject
    if schema.drift:
        # Drift was found and someone (or the cluster's drift reaction) chose to re-apply: undo what was
        # done to the subject behind the portal's back before applying the desired state.
        _undo_drift(registry, schema, actions)
    if registry.get_compatibility(subject) != schema.compatibility:
        # Set before registering, so the registry judges new versions by the desired level.
        registry.set_compatibility(subject, schema.compatibility)
        actions.append(f"set compatibility {schema.compatibility}")
    for _ in range(REGISTER_PASSES):
        waiting = list(schema.versions.filter(registry_version__isnull=True).order_by("number"))
        if not waiting:
            return
        for version in waiting:
            _register(registry, schema, version, actions)
    # Still more: versions keep arriving without a new generation. Leave it for the next run.
    raise PlatformError(f"New versions of {subject} kept arriving during the run; trying again.", retryable=True,
                        code="busy")


def _register(registry: Registry, schema: Schema, version: SchemaVersion, actions: list[str]) -> None:
    subject = schema.subject
    # Look up first: a run that died after registering, or a version registered by hand with the same
    # text, must not become a second registry version.
    found = registry.lookup(subject, version.text, schema.format)
    if found is None:
        registry.register(subject, version.text, schema.format)
        # The register answer carries only the (global) id; the lookup gives the subject's version number.
        found = registry.lookup(subject, version.text, schema.format)
        if found is None:
            raise PlatformError(f"The registry accepted version {version.number} of {subject} but does not list "
                                "it under the subject yet.", retryable=True, code="not_visible")
        actions.append(f"register version {version.number}")
    else:
        actions.append(f"version {version.number} already registered as registry version {found['version']}")
    SchemaVersion.objects.filter(pk=version.pk).update(
        registry_id=found["id"], registry_version=found["version"], registered_at=timezone.now())


def _undo_drift(registry: Registry, schema: Schema, actions: list[str]) -> None:
    subject = schema.subject
    observed = set(registry.versions(subject))
    ours = set(schema.versions.filter(registry_version__isnull=False).values_list("registry_version", flat=True))
    for extra in sorted(observed - ours):
        # A soft delete: the version stays readable by id, so data already written with it can be read.
        registry.delete_version(subject, extra)
        actions.append(f"soft-delete version {extra} registered outside the portal")
    missing = sorted(ours - observed)
    if missing:
        SchemaVersion.objects.filter(schema=schema, registry_version__in=missing).update(
            registry_id=None, registry_version=None, registered_at=None)
        actions.append("re-register versions missing from the registry: "
                       + ", ".join(f"registry version {v}" for v in missing))


def _delete(registry: Registry, schema: Schema, actions: list[str]) -> None:
    subject = schema.subject
    for version in registry.versions(subject):
        users = registry.referenced_by(subject, version)
        if users:
            raise PlatformError(
                f"{subject} is not deleted: version {version} is referenced by the schema(s) with id "
                f"{', '.join(map(str, users))}. Delete or change the referencing schemas first.",
                retryable=False, code="referenced")
    # The Confluent contract allows a permanent delete only after a soft one.
    registry.delete_subject(subject, permanent=False)
    actions.append("soft-delete subject")
    registry.delete_subject(subject, permanent=True)
    actions.append("permanently delete subject")
