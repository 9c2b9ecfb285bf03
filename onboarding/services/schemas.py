"""Schema services: check a proposed version (locally, then by the registry), store accepted
versions, change a subject's compatibility mode. Celery registers what is stored.

Nothing unchecked is stored: a version is refused when it is malformed, incompatible under the
subject's mode, or when the registry cannot give its verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max

from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.choices import SCHEMA_FORMATS
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, Compatibility, ResourceStatus, Schema, SchemaVersion, Topic
from onboarding.permissions import can_write_team
from onboarding.platform import PlatformError
from onboarding.platform.connection import registry_connection_for
from onboarding.platform.registry import Registry
from onboarding.queue import schemas_reconcile_soon
from onboarding.schemas.diff import Change, diff_schemas, explain_incompatibility
from onboarding.schemas.validation import check_schema_text, fingerprint
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.topics import policy_for
from portal.observability.tracing import service_span


@dataclass
class SchemaCheck:
    """What a person sees before submitting: problems, the registry's verdict, reasons, the diff."""

    subject: str
    problems: list[str] = field(default_factory=list)
    compatible: bool | None = None
    mode: str = ""
    reasons: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    against_version: int | None = None

    @property
    def acceptable(self) -> bool:
        return not self.problems and self.compatible is True


def _live_schema(topic: Topic, side: str) -> Schema | None:
    return Schema.objects.filter(topic=topic, side=side).exclude(status=ResourceStatus.DELETED).first()


def _check_inputs(topic: Topic, side: str, fmt: str, mode: str | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if side not in Schema.Side.values:
        errors["side"] = ["Choose key or value."]
    if fmt not in SCHEMA_FORMATS:
        errors["format"] = [f"Unknown schema format {fmt!r}; choose AVRO, JSON or PROTOBUF."]
    if topic.status in (ResourceStatus.DELETED, ResourceStatus.DELETING) or topic.wants_deletion:
        errors["topic"] = ["The topic is deleted or being deleted."]
    if mode is not None:
        policy = policy_for(topic.cluster)
        if mode not in Compatibility.values:
            errors["compatibility"] = [f"Choose one of {', '.join(Compatibility.values)}."]
        elif mode in (policy.forbidden_compatibilities or []):
            errors["compatibility"] = [f"{mode} is not allowed on the {topic.cluster.environment} cluster "
                                       f"{topic.cluster.name}."]
    return errors


def schema_check(*, actor, topic: Topic, side: str, fmt: str, text: str, compatibility: str | None = None
                 ) -> SchemaCheck:
    """Check a proposed version without storing anything (the form's "check" button, the API action)."""
    if not can_write_team(actor, topic.team):
        raise PermissionDenied("Only owners and members of the topic's team can change its schemas.")
    errors = _check_inputs(topic, side, fmt, compatibility)
    if errors:
        raise ValidationError(errors)
    schema = _live_schema(topic, side)
    result = SchemaCheck(subject=f"{topic.name}-{side}")
    result.problems = [str(p) for p in check_schema_text(text, fmt)] or _registry_rules(text, fmt)
    if result.problems:
        return result
    if schema and schema.format != fmt:
        result.problems = [f"This subject holds {schema.format} schemas; a new version must be {schema.format} too."]
        return result
    policy = policy_for(topic.cluster)
    result.mode = compatibility or (schema.compatibility if schema else policy.default_compatibility)
    versions = list(schema.versions.order_by("number")) if schema else []
    if versions:
        latest = versions[-1]
        result.against_version = latest.number
        result.changes = diff_schemas(latest.text, text, fmt)
        if schema.status != ResourceStatus.READY:
            result.problems = ["The previous change to this schema is still being applied to the registry "
                               f"(status {schema.status}); check again once it is ready."]
            return result
        older = versions if result.mode.endswith("_TRANSITIVE") else [latest]
        result.reasons = [reason for version in older
                          for reason in explain_incompatibility(version.text, text, fmt, result.mode)]
    result.compatible = _registry_verdict(topic, result.subject, fmt, text, result.mode, bool(versions))
    if result.compatible is False and not result.reasons:
        result.reasons = [f"The registry finds this version incompatible under {result.mode}."]
    return result


def _registry_rules(text: str, fmt: str) -> list[str]:
    """Rules registries apply on registration that a syntax check does not reveal."""
    if fmt == "JSON":
        document = json.loads(text)
        if isinstance(document, dict) and "$schema" not in document and "properties" not in document:
            return ['Declare the JSON Schema draft with "$schema" (for example '
                    '"https://json-schema.org/draft/2020-12/schema"): registries cannot tell this schema from '
                    "other formats without it."]
    return []


def _registry_verdict(topic: Topic, subject: str, fmt: str, text: str, mode: str, has_versions: bool) -> bool:
    """Ask the registry; raise a ValidationError that says why when it cannot answer."""
    registry = Registry.shared(registry_connection_for(topic.cluster))
    try:
        if has_versions:
            current = registry.get_compatibility(subject) or registry.global_compatibility()
            if current != mode:
                raise ValidationError({"compatibility": [
                    f"The registry still applies {current} to {subject}; wait until the mode change to {mode} is "
                    "applied, then check again."]})
            return registry.check_compatibility(subject, text, fmt)
        registry.validate(text, fmt)
        return True
    except PlatformError as exc:
        if not exc.retryable:
            raise ValidationError({"text": [f"The registry refused the schema: {exc}"]}) from None
        raise ValidationError({"__all__": [f"The Schema Registry could not check this version ({exc}); nothing "
                                           "was stored. Try again when it is reachable."]}) from None


@service_span
def schema_version_submit(*, actor, topic: Topic, side: str, fmt: str, text: str, note: str = "",
                          compatibility: str | None = None, via: str = AuditEvent.Via.SYSTEM,
                          change_request: ChangeRequest | None = None) -> SchemaVersion | ChangeRequest:
    """Store a new version after it passed every check; the worker registers it.

    A cluster whose change policy gates ``schema.submit`` gets a ChangeRequest back instead; the approved
    request is applied with ``change_request`` set, which passes the gate.
    """
    check = schema_check(actor=actor, topic=topic, side=side, fmt=fmt, text=text, compatibility=compatibility)
    if check.problems:
        raise ValidationError({"text": check.problems})
    if not check.compatible:
        raise ValidationError({"text": [f"Incompatible with version {check.against_version} under {check.mode}: "
                                        + "; ".join(check.reasons)]})
    current = _live_schema(topic, side)
    previous = current.versions.order_by("-number").first() if current else None
    if previous and previous.fingerprint == fingerprint(text, fmt):
        raise ValidationError({"text": [f"This is identical to version {previous.number}; nothing to add."]})
    payload = {"topic": topic.pk, "side": side, "fmt": fmt, "text": text, "note": note, "compatibility": compatibility}
    if opened := gate(actor=actor, cluster=topic.cluster, team=topic.team, operation="schema.submit", payload=payload,
                      via=via, title=f"New schema version for {check.subject}", target=current or topic,
                      change_request=change_request):
        return opened
    with transaction.atomic():
        schema = _live_schema(topic, side)
        created = schema is None
        if created:
            schema = Schema.objects.create(topic=topic, side=side, format=fmt, compatibility=check.mode)
        else:
            schema = Schema.objects.select_for_update(no_key=True).get(pk=schema.pk)
            schema.compatibility = check.mode
        digest = fingerprint(text, fmt)
        latest = schema.versions.order_by("-number").first()
        if latest and latest.fingerprint == digest:
            raise ValidationError({"text": [f"This is identical to version {latest.number}; nothing to add."]})
        number = (schema.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = SchemaVersion.objects.create(schema=schema, number=number, text=text, fingerprint=digest,
                                               author=actor if actor and actor.is_authenticated else None, note=note)
        if not created:
            _mark_for_apply(schema)
        audit_record(actor=actor, via=via, action="schema.version.create", obj=schema, team=topic.team,
                     after={"subject": schema.subject, "version": number, "format": fmt, "mode": check.mode,
                            "changes": [c.describe() for c in check.changes], "note": note})
        catalogue_refresh([topic.pk])
    _schedule(topic.cluster_id)
    return version


@service_span
def schema_set_compatibility(*, actor, schema: Schema, compatibility: str, via: str = AuditEvent.Via.SYSTEM,
                             change_request: ChangeRequest | None = None) -> Schema | ChangeRequest:
    """Change a subject's compatibility mode; a cluster gating ``schema.compatibility`` gets a ChangeRequest."""
    if not can_write_team(actor, schema.topic.team):
        raise PermissionDenied("Only owners and members of the topic's team can change its schemas.")
    errors = _check_inputs(schema.topic, schema.side, schema.format, compatibility)
    if errors:
        raise ValidationError(errors)
    if compatibility != schema.compatibility and (opened := gate(
            actor=actor, cluster=schema.topic.cluster, team=schema.topic.team, operation="schema.compatibility",
            payload={"schema": schema.pk, "compatibility": compatibility}, via=via, target=schema,
            title=f"Compatibility of {schema.subject}: {schema.compatibility} -> {compatibility}",
            change_request=change_request)):
        return opened
    with transaction.atomic():
        schema = (Schema.objects.select_for_update(no_key=True, of=("self",))
                  .select_related("topic__team", "topic__cluster").get(pk=schema.pk))
        before = schema.compatibility
        if before == compatibility:
            return schema
        schema.compatibility = compatibility
        _mark_for_apply(schema)
        audit_record(actor=actor, via=via, action="schema.compatibility", obj=schema, team=schema.topic.team,
                     before={"compatibility": before}, after={"compatibility": compatibility})
    _schedule(schema.topic.cluster_id)
    return schema


def schema_diff(*, schema: Schema, from_number: int, to_number: int) -> list[Change]:
    versions = {v.number: v for v in schema.versions.filter(number__in=[from_number, to_number])}
    missing = [n for n in (from_number, to_number) if n not in versions]
    if missing:
        raise ValidationError({"version": [f"No version {', '.join(map(str, missing))} of {schema.subject}."]})
    return diff_schemas(versions[from_number].text, versions[to_number].text, schema.format)


def _mark_for_apply(schema: Schema) -> None:
    """A new desired generation for the reconciler, backoff reset."""
    schema.generation += 1
    schema.status = ResourceStatus.PENDING
    schema.failures, schema.next_attempt_at, schema.last_error = 0, None, ""
    schema.save()


def _schedule(cluster_id: int) -> None:
    schemas_reconcile_soon(cluster_id)
