"""An aggregation's output as a portal topic: created with the definition, its value schema a portal Schema
with versions, its sensitive fields derived from the source's (docs/aggregations.md, "The output topic").

Called by the aggregation services inside their transaction, and by the sensitive-field services when a source's
tags change. The output is an ordinary Topic row owned by the aggregation's team (so peek, the gateway's masks,
the catalogue, lineage and subscriptions see it); ``Aggregation.output`` marks it as managed: the topic services
refuse its edits and deletion while the aggregation lives, and deleting the aggregation releases it to the team
with its results.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from onboarding.audit import audit_record
from onboarding.errors import ValidationError
from onboarding.models import Aggregation, ResourceStatus, Schema, SchemaVersion, SensitiveField, Topic
from onboarding.models.classification import classification_of, masked_paths
from onboarding.platform import PlatformError
from onboarding.platform.connection import registry_connection_for
from onboarding.platform.registry import Registry
from onboarding.queue import access_reconcile_soon, reconcile_soon, schemas_reconcile_soon
from onboarding.reconcile import aggregations_plan as plan
from onboarding.schemas.diff import explain_incompatibility
from onboarding.schemas.validation import fingerprint
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.topic_policy import policy_for, replication_choices

SCHEMA_FORMAT = "JSON"
# Every derived tag's note starts so; a tag the team set by hand on the output is left alone.
DERIVED_NOTE = "Derived by aggregation"
# The output's key is the group alone (not the window), so compaction would keep one window per group and drop
# every earlier result: both emit modes keep results by time. on_update writes a record per update, on_close one
# per window; retention, not the key, decides how long either stays.
OUTPUT_CONFIGS = {"cleanup.policy": "delete"}
# An aggregation of an aggregation's output inherits its derived tags; a chain longer than this is not followed.
MAX_CHAIN = 8


def value_schema(topic: Topic | None) -> Schema | None:
    if topic is None:
        return None
    return topic.schemas.filter(side=Schema.Side.VALUE).exclude(status=ResourceStatus.DELETED).first()


def tag_origins(agg: Aggregation) -> dict[str, tuple[str, list[str]]]:
    """Output field -> (classification, source fields), from the source's own and inherited tags."""
    return plan.output_tag_origins(plan.Spec.of(agg), masked_paths(classification_of(agg.source)))


def schema_text(agg: Aggregation) -> str:
    """The output value's JSON Schema for ``agg`` (saved or not), with ``confluent:tags`` for derived tags."""
    tags = {name: classification for name, (classification, _) in tag_origins(agg).items()}
    return plan.schema_text(plan.output_schema(plan.Spec.of(agg), tags=tags))


def _topic_services():
    # Imported when called: the topic services import the aggregation services (a deleted source ends its
    # aggregations), which import this module.
    from onboarding.services import topics

    return topics


def _visibility(source: Topic) -> str:
    # Results of a private topic stay as private as their source; the topic's team may open them later.
    return Topic.Visibility.PRIVATE if source.visibility == Topic.Visibility.PRIVATE else Topic.Visibility.PUBLIC


def _description(agg: Aggregation) -> str:
    return f"Results of aggregation {agg.definition_id}: {agg.window_type} windows of {agg.source.name}."


def _topic_fields(agg: Aggregation) -> dict:
    cluster = agg.source.cluster
    policy = policy_for(cluster)
    return {"cluster": cluster, "team": agg.team, "name": agg.output_topic, "partitions": agg.source.partitions,
            "replication_factor": replication_choices(cluster, policy).default,
            "configs": {**policy.default_configs, **OUTPUT_CONFIGS}, "description": _description(agg),
            "visibility": _visibility(agg.source)}


# ----------------------------------------------------------------------------------------------- checks

def output_topic_errors(agg: Aggregation) -> list[str]:
    """Why the output could not be a topic of the cluster (its name is checked by the aggregation services):
    the source's partition count or the output's configs outside the cluster's topic policy."""
    topic_services = _topic_services()
    fields = _topic_fields(agg)
    errors = topic_services.topic_create_errors(**fields, check_existing=False)
    errors.pop("name", None)
    return [f"The output topic would be refused ({field}): {message}"
            for field, messages in errors.items() for message in messages]


def output_schema_errors(agg: Aggregation, *, text: str | None = None) -> list[str]:
    """Why the output schema of the changed ``agg`` (unsaved) may not follow the output's current version: the
    local explanation and the registry's verdict under the subject's mode, as the schema services check a
    version. Empty when it is compatible or no version exists yet."""
    schema = value_schema(agg.output) if agg.output_id and agg.output.name == agg.output_topic else None
    latest = schema.versions.order_by("-number").first() if schema else None
    text = text if text is not None else schema_text(agg)
    if latest is None or latest.fingerprint == fingerprint(text, SCHEMA_FORMAT):
        return []
    reasons = explain_incompatibility(latest.text, text, SCHEMA_FORMAT, schema.compatibility)
    try:
        compatible = Registry.shared(registry_connection_for(agg.cluster)).check_compatibility(
            schema.subject, text, SCHEMA_FORMAT)
    except PlatformError as exc:
        if reasons:
            compatible = False
        elif exc.retryable:
            raise ValidationError({"__all__": [f"The Schema Registry could not check the new output schema ({exc}); "
                                               "nothing was saved. Try again when it is reachable."]}) from None
        else:
            compatible = False
            reasons = [str(exc)]
    if compatible and not reasons:
        return []
    why = " ".join(r if r.endswith(".") else f"{r}." for r in reasons) or \
        f"The registry finds it incompatible under {schema.compatibility}."
    return [f"The results would no longer match {schema.subject} v{latest.number} ({schema.compatibility}): {why} "
            f"Keep each measure's name and type, add measures instead, or choose a new output topic."]


# ----------------------------------------------------------------------------------------------- writes

def output_create(*, actor, agg: Aggregation, via: str) -> Topic:
    """Create ``agg``'s output topic, its value schema's first version and the derived tags; inside the caller's
    transaction, after ``agg`` is saved. A name taken meanwhile is the output_topic field's error."""
    topic_services = _topic_services()
    fields = _topic_fields(agg)
    fields["configs"] = topic_services._normalized(fields["configs"])
    topic = Topic(**fields)
    try:
        with transaction.atomic():
            topic.save()
    except IntegrityError:
        raise ValidationError({"output_topic": ["A topic with this name exists already; choose a new name for the "
                                                "results."]}) from None
    audit_record(actor=actor, via=via, action="topic.create", obj=topic, team=agg.team,
                 after=topic_services.topic_snapshot(topic),
                 note=f"The output of aggregation {agg.definition_id}, managed by it.")
    agg.output = topic
    Aggregation.objects.filter(pk=agg.pk).update(output=topic)
    schema = Schema.objects.create(topic=topic, side=Schema.Side.VALUE, format=SCHEMA_FORMAT,
                                   compatibility=policy_for(topic.cluster).default_compatibility)
    _add_version(actor=actor, agg=agg, schema=schema, via=via, text=schema_text(agg))
    _derive_tags(actor=actor, agg=agg, schema=schema, via=via)
    catalogue_refresh([topic.pk])
    reconcile_soon(topic.cluster_id)
    schemas_reconcile_soon(topic.cluster_id)
    return topic


def output_follow(*, actor, agg: Aggregation, via: str) -> None:
    """After an update of ``agg`` (saved, in the caller's transaction): a new output name gets a new topic (the
    earlier one is released with its results); otherwise a changed output schema becomes a new version."""
    if agg.output_id is None or agg.output.name != agg.output_topic:
        if agg.output_id is not None:
            output_released(actor=actor, topic=agg.output, agg=agg, via=via,
                            why=f"it now writes to {agg.output_topic}")
        output_create(actor=actor, agg=agg, via=via)
        return
    schema = value_schema(agg.output)
    if schema is None:
        return
    _add_version(actor=actor, agg=agg, schema=schema, via=via, text=schema_text(agg))
    if _derive_tags(actor=actor, agg=agg, schema=schema, via=via):
        access_reconcile_soon(agg.cluster_id)


def output_released(*, actor, topic: Topic, agg: Aggregation, via: str, why: str) -> None:
    """Audit that ``topic`` is an ordinary topic of the team again (the row link is what made it managed)."""
    audit_record(actor=actor, via=via, action="topic.release", obj=topic, team=topic.team,
                 note=f"No longer managed by aggregation {agg.definition_id}: {why}. Its results stay.")


def outputs_follow_tags(*, actor, topic: Topic, via: str, depth: int = 0) -> None:
    """Re-derive the tags of every live output computed from ``topic`` (called when its tags change), and of
    outputs computed from those, since they inherit the derived tags."""
    aggs = (Aggregation.objects.filter(source=topic, output__isnull=False, delete_requested_at__isnull=True)
            .exclude(status=ResourceStatus.DELETED).select_related("team", "cluster", "source__cluster", "output"))
    for agg in aggs:
        schema = value_schema(agg.output)
        if schema is None:
            continue
        changed = _derive_tags(actor=actor, agg=agg, schema=schema, via=via)
        _add_version(actor=actor, agg=agg, schema=schema, via=via, text=schema_text(agg))
        if changed:
            access_reconcile_soon(agg.cluster_id)
            if depth + 1 < MAX_CHAIN:
                outputs_follow_tags(actor=actor, topic=agg.output, via=via, depth=depth + 1)


def _add_version(*, actor, agg: Aggregation, schema: Schema, via: str, text: str) -> SchemaVersion | None:
    """A new version of the output schema when ``text`` differs from the latest (the schema run registers it)."""
    digest = fingerprint(text, SCHEMA_FORMAT)
    schema = Schema.objects.select_for_update(no_key=True).get(pk=schema.pk)
    latest = schema.versions.order_by("-number").first()
    if latest is not None and latest.fingerprint == digest:
        return None
    number = (schema.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    note = f"Generated from aggregation {agg.definition_id} (version {agg.version})."
    version = SchemaVersion.objects.create(schema=schema, number=number, text=text, fingerprint=digest, note=note,
                                           author=actor if actor is not None and actor.is_authenticated else None)
    if latest is not None:
        schema.generation += 1
        schema.status = ResourceStatus.PENDING
        schema.failures, schema.next_attempt_at, schema.last_error = 0, None, ""
        schema.save()
    audit_record(actor=actor, via=via, action="schema.version.create", obj=schema, team=schema.topic.team,
                 after={"subject": schema.subject, "version": number, "format": SCHEMA_FORMAT, "note": note})
    schemas_reconcile_soon(schema.topic.cluster_id)
    return version


def _note(agg: Aggregation, output_field: str, fields: list[str]) -> str:
    measure = next((m for m in agg.measures if m["name"] == output_field), None)
    how = f"{measure['op']}({measure.get('field')})" if measure else f"group by {agg.group_by or 'the record key'}"
    return f"{DERIVED_NOTE} {agg.definition_id} from {', '.join(fields)} of {agg.source.name}, as {how}."


def _derive_tags(*, actor, agg: Aggregation, schema: Schema, via: str) -> bool:
    """Make the schema's derived tags those the source's tags give now; True when any changed."""
    wanted = {name: (classification, _note(agg, name, fields))
              for name, (classification, fields) in tag_origins(agg).items()}
    existing = {tag.path: tag for tag in SensitiveField.objects.select_for_update(no_key=True).filter(schema=schema)}
    before = {path: tag.classification for path, tag in existing.items()}
    changed = False
    for path, tag in existing.items():
        if tag.note.startswith(DERIVED_NOTE) and path not in wanted:
            tag.delete()
            changed = True
    for path, (classification, note) in wanted.items():
        tag = existing.get(path)
        if tag is None:
            SensitiveField.objects.create(schema=schema, path=path, classification=classification, note=note)
            changed = True
        elif tag.note.startswith(DERIVED_NOTE) and (tag.classification, tag.note) != (classification, note):
            tag.classification, tag.note = classification, note
            tag.save()
            changed = True
    if changed:
        after = dict(SensitiveField.objects.filter(schema=schema).values_list("path", "classification"))
        audit_record(actor=actor, via=via, action="schema.sensitive_field.derive", obj=schema,
                     team=schema.topic.team, before=before, after=after,
                     note=f"Derived from the tags of {agg.source.name} by aggregation {agg.definition_id}.")
    return changed
