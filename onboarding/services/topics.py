"""Topic services: validate, write the desired row and its audit record, schedule reconciliation."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding import policies
from onboarding.audit import audit_record
from onboarding.changes.gate import gate
from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import ApplyAttempt, AuditEvent, ChangeRequest, Cluster, ResourceStatus, Team, Topic, TopicPolicy
from onboarding.models.aggregations import managing_aggregation
from onboarding.permissions import can_write_team, is_operator
from onboarding.platform.cluster_size import broker_count
from onboarding.queue import reconcile_soon, schemas_reconcile_soon
from onboarding.services import team_quotas
from onboarding.services.aggregations import aggregations_end_with_source
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.event_store import event_store_end_with_topic
from onboarding.services.topic_policy import broker_limit, policy_for, replication_choices
from portal.observability.tracing import service_span

TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_TAGS = 20
MAX_DESCRIPTION = 5_000


def topic_snapshot(topic: Topic) -> dict:
    """The desired state of a topic as it is audited (before/after)."""
    return {
        "name": topic.name, "team": topic.team.slug, "cluster": topic.cluster.name,
        "partitions": topic.partitions, "replication_factor": topic.replication_factor,
        "configs": dict(topic.configs), "description": topic.description, "tags": list(topic.tags),
        "visibility": topic.visibility, "drift_reaction": topic.drift_reaction, "generation": topic.generation,
        "subscriptions_need_approval": topic.subscriptions_need_approval,
    }


APPROVAL_NOT_BOOL = "Answer true or false: do subscriptions to this topic need the team's approval?"


def _check_metadata(errors: dict, *, description: str, tags, visibility: str,
                    subscriptions_need_approval=False) -> None:
    if len(description) > MAX_DESCRIPTION:
        errors.setdefault("description", []).append(f"Keep the description under {MAX_DESCRIPTION} characters.")
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        errors.setdefault("tags", []).append("Tags must be a list of words.")
    else:
        bad = [t for t in tags if not TAG.match(t)]
        if bad:
            errors.setdefault("tags", []).append(
                f"Tags use lowercase letters, digits and '-' (at most 40 characters); not: {', '.join(bad)}.")
        if len(tags) > MAX_TAGS:
            errors.setdefault("tags", []).append(f"At most {MAX_TAGS} tags.")
    if visibility not in Topic.Visibility.values:
        errors.setdefault("visibility", []).append("Choose public or private.")
    if not isinstance(subscriptions_need_approval, bool):
        errors.setdefault("subscriptions_need_approval", []).append(APPROVAL_NOT_BOOL)


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _normalized(configs) -> dict[str, str]:
    return {key: policies.normalize_config_value(value) for key, value in configs.items()}


@service_span
def topic_create(
    *, actor, cluster: Cluster, team: Team, name: str, partitions: int | None = None,
    replication_factor: int | None = None, configs: dict | None = None, description: str = "",
    tags: list[str] | tuple = (), visibility: str = Topic.Visibility.PUBLIC, via: str = AuditEvent.Via.SYSTEM,
    subscriptions_need_approval: bool = False, change_request: ChangeRequest | None = None,
) -> Topic | ChangeRequest:
    """Register a new topic for ``team`` on ``cluster``; Celery creates it on Kafka.

    On a cluster whose change policy gates ``topic.create``, returns the opened ChangeRequest instead
    (``change_request`` is the approved request being applied, which passes the gate).
    """
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the team can create its topics.")
    policy = policy_for(cluster)
    partitions = policy.default_partitions if partitions is None else partitions
    if replication_factor is None:
        replication_factor = replication_choices(cluster, policy).default
    configs = {**policy.default_configs, **(configs or {})}
    name = (name or "").strip()
    _raise_if(topic_create_errors(cluster=cluster, team=team, name=name, partitions=partitions,
                                  replication_factor=replication_factor, configs=configs,
                                  description=description, tags=tags, visibility=visibility,
                                  subscriptions_need_approval=subscriptions_need_approval))
    payload = {"cluster": cluster.pk, "team": team.pk, "name": name, "partitions": partitions,
               "replication_factor": replication_factor, "configs": _normalized(configs), "description": description,
               "tags": list(tags), "visibility": visibility, "subscriptions_need_approval": subscriptions_need_approval}
    if opened := gate(actor=actor, cluster=cluster, team=team, operation="topic.create", payload=payload, via=via,
                      title=f"Create topic {name} on {cluster.name}", change_request=change_request):
        return opened

    topic = Topic(cluster=cluster, team=team, name=name, partitions=partitions,
                  replication_factor=replication_factor, configs=_normalized(configs), description=description,
                  tags=list(tags), visibility=visibility, subscriptions_need_approval=subscriptions_need_approval)
    try:
        with transaction.atomic():
            topic.save()
            audit_record(actor=actor, via=via, action="topic.create", obj=topic, team=team,
                         after=topic_snapshot(topic))
            catalogue_refresh([topic.pk])
    except IntegrityError:
        # Two requests raced for the same name; the constraint decided.
        raise ValidationError({"name": ["A topic with this name already exists on this cluster."]}) from None
    reconcile_soon(cluster.pk)
    return topic


def topic_create_errors(*, cluster: Cluster, team: Team, name: str, partitions: int, replication_factor: int,
                        configs: dict, description: str = "", tags=(), visibility: str = "public",
                        subscriptions_need_approval=False, check_existing: bool = True,
                        policy: TopicPolicy | None = None, check_quota: bool = True) -> dict:
    """Every field-level problem of a new topic, without saving anything (forms validate as you type).
    ``check_quota``: the team's quota on the cluster (a batch checks its total instead)."""
    policy = policy or policy_for(cluster)
    errors: dict[str, list[str]] = {}
    for field, messages in (
        ("name", policies.check_name(name, team_slug=team.slug, pattern=policy.name_pattern)),
        ("partitions", policies.check_partitions(partitions, minimum=policy.min_partitions,
                                                 maximum=policy.max_partitions)),
        ("replication_factor", policies.check_replication_factor(
            replication_factor, allowed=policy.allowed_replication_factors)),
        ("configs", policies.check_configs(configs, rules=policy.config_rules,
                                           replication_factor=replication_factor)),
    ):
        if messages:
            errors[field] = messages
    broker_limit(errors, replication_factor, broker_count(cluster))
    if not cluster.is_active:
        errors.setdefault("cluster", []).append("This cluster is not accepting changes.")
    _check_metadata(errors, description=description, tags=tags, visibility=visibility,
                    subscriptions_need_approval=subscriptions_need_approval)
    if check_existing and "name" not in errors:
        _check_name_free(errors, cluster, name)
    if check_quota and not errors:
        errors.update(team_quotas.quota_errors(
            cluster, team, topics=1, partitions=partitions,
            disk_bytes=team_quotas.disk_of(partitions, configs, cluster, team)))
    return errors


def _check_name_free(errors: dict, cluster: Cluster, name: str) -> None:
    live = Topic.objects.filter(cluster=cluster).exclude(status=ResourceStatus.DELETED)
    if live.filter(name=name).exists():
        errors["name"] = ["A topic with this name already exists on this cluster."]
    elif other := live.filter(collision_key=name.replace(".", "_")).first():
        errors["name"] = [f"This name collides with the existing topic {other.name}: Kafka treats '.' and '_' "
                          "alike in metric names."]


GONE = "This topic is deleted or being deleted."


def managed_errors(topic: Topic, fields=("__all__",)) -> dict[str, list[str]]:
    """An aggregation's output is changed through the aggregation while it lives: the engine writes it, its
    schema is generated from the definition and its partitions follow the source."""
    agg = managing_aggregation(topic)
    if agg is None:
        return {}
    message = (f"This topic is managed by aggregation {agg.definition_id}, which writes its results: change or "
               "delete the aggregation instead (deleting it leaves this topic to the team).")
    return {field: [message] for field in fields}


def _conflict(current: Topic, expected_generation: int | None) -> Conflict | None:
    if expected_generation is None or current.generation == expected_generation:
        return None
    return Conflict(f"The topic changed since you loaded it (now at generation {current.generation}, you had "
                    f"{expected_generation}). Reload it and apply your change again.",
                    current_generation=current.generation)


def _locked(topic: Topic, expected_generation: int | None) -> Topic:
    current = (Topic.objects.select_for_update(no_key=True, of=("self",))
               .select_related("cluster", "team").get(pk=topic.pk))
    if conflict := _conflict(current, expected_generation):
        raise conflict
    if current.status == ResourceStatus.DELETED or current.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    return current


def topic_update_errors(
    *, topic: Topic, partitions: int | None = None, configs: dict | None = None, description: str | None = None,
    tags: list[str] | None = None, visibility: str | None = None, drift_reaction: str | None = None,
    replication_factor: int | None = None, subscriptions_need_approval: bool | None = None,
    expected_generation: int | None = None,
) -> dict[str, list[str]]:
    """Every problem topic_update would refuse, as field errors, without saving anything.

    ``topic`` is the row as last read from the database. A stale ``expected_generation`` and a
    deleted topic come back under ``__all__`` (topic_update raises Conflict for the former).
    """
    if conflict := _conflict(topic, expected_generation):
        return {"__all__": [str(conflict)]}
    if topic.status == ResourceStatus.DELETED or topic.wants_deletion:
        return {"__all__": [GONE]}
    given = [field for field, value in (
        ("partitions", partitions), ("configs", configs), ("description", description), ("tags", tags),
        ("visibility", visibility), ("drift_reaction", drift_reaction), ("replication_factor", replication_factor),
        ("subscriptions_need_approval", subscriptions_need_approval)) if value is not None]
    if managed := managed_errors(topic, given or ("__all__",)):
        return managed
    policy = policy_for(topic.cluster)
    errors: dict[str, list[str]] = {}
    for field, messages in (
        ("partitions", [] if partitions in (None, topic.partitions) else policies.check_partitions(
            partitions, minimum=policy.min_partitions, maximum=policy.max_partitions, current=topic.partitions)),
        ("replication_factor", [] if replication_factor is None else policies.check_replication_factor(
            replication_factor, allowed=[], current=topic.replication_factor)),
        ("configs", [] if configs is None else policies.check_configs(
            configs, rules=policy.config_rules, replication_factor=topic.replication_factor)),
    ):
        if messages:
            errors[field] = messages
    _check_metadata(errors, description=topic.description if description is None else description,
                    tags=topic.tags if tags is None else tags,
                    visibility=topic.visibility if visibility is None else visibility,
                    subscriptions_need_approval=(
                        topic.subscriptions_need_approval if subscriptions_need_approval is None
                        else subscriptions_need_approval))
    if drift_reaction is not None and drift_reaction not in Topic.DriftReaction.values:
        errors["drift_reaction"] = ["Choose revert, report or the cluster default."]
    if not errors:
        errors.update(_quota_errors_of_change(topic, partitions, configs))
    return errors


def _quota_errors_of_change(topic: Topic, partitions: int | None, configs: dict | None) -> dict[str, list[str]]:
    """More partitions or a larger retention.bytes count against the team's quota (a smaller one never does)."""
    new_partitions = topic.partitions if partitions is None else partitions
    new_configs = topic.configs if configs is None else _normalized(configs)
    before = team_quotas.disk_of(topic.partitions, topic.configs, topic.cluster, topic.team)
    after = team_quotas.disk_of(new_partitions, new_configs, topic.cluster, topic.team)
    grows = new_partitions > topic.partitions
    if not grows and after <= before:
        return {}
    return team_quotas.quota_errors(
        topic.cluster, topic.team, partitions=max(new_partitions - topic.partitions, 0),
        disk_bytes=max(after - before, 0), disk_field="partitions" if grows else "configs")


@service_span
def topic_update(
    *, actor, topic: Topic, expected_generation: int | None = None, via: str = AuditEvent.Via.SYSTEM,
    partitions: int | None = None, configs: dict | None = None, description: str | None = None,
    tags: list[str] | None = None, visibility: str | None = None, drift_reaction: str | None = None,
    replication_factor: int | None = None, subscriptions_need_approval: bool | None = None,
    change_request: ChangeRequest | None = None,
) -> Topic | ChangeRequest:
    """Change a topic. Partitions may only grow; the replication factor never changes in place
    (a caller may pass it unchanged, e.g. an API client sending back what it read).

    ``expected_generation`` is the generation the caller based its change on; a stale one raises
    Conflict instead of silently overwriting someone else's change. The rules are topic_update_errors'.
    A cluster whose change policy gates ``topic.update`` gets a ChangeRequest back (see topic_create).
    """
    if not can_write_team(actor, topic.team):
        raise PermissionDenied("Only owners and members of the team can change its topics.")
    with transaction.atomic():
        topic = _locked(topic, expected_generation)
        before = topic_snapshot(topic)
        _raise_if(topic_update_errors(topic=topic, partitions=partitions, configs=configs, description=description,
                                      tags=tags, visibility=visibility, drift_reaction=drift_reaction,
                                      replication_factor=replication_factor,
                                      subscriptions_need_approval=subscriptions_need_approval))
        payload = {"topic": topic.pk, **{k: v for k, v in (
            ("partitions", partitions), ("configs", configs), ("description", description),
            ("tags", None if tags is None else list(tags)), ("visibility", visibility),
            ("drift_reaction", drift_reaction), ("replication_factor", replication_factor),
            ("subscriptions_need_approval", subscriptions_need_approval)) if v is not None}}
        if opened := gate(actor=actor, cluster=topic.cluster, team=topic.team, operation="topic.update",
                          payload=payload, via=via, title=f"Change topic {topic.name}", target=topic,
                          change_request=change_request):
            return opened

        kafka_changed = (partitions is not None and partitions != topic.partitions) or (
            configs is not None and _normalized(configs) != topic.configs)
        if partitions is not None:
            topic.partitions = partitions
        if configs is not None:
            topic.configs = _normalized(configs)
        for field, value in (("description", description), ("tags", tags), ("visibility", visibility),
                             ("drift_reaction", drift_reaction),
                             ("subscriptions_need_approval", subscriptions_need_approval)):
            if value is not None:
                setattr(topic, field, list(value) if field == "tags" else value)
        edited = _without_generation(topic_snapshot(topic)) != _without_generation(before)
        if kafka_changed:
            _mark_for_apply(topic)
        elif edited:
            # Metadata only: the generation moves, so a stale If-Match is refused, but Kafka is left alone.
            topic.bump_generation_in_place()
        topic.save()
        after = topic_snapshot(topic)
        if edited:
            audit_record(actor=actor, via=via, action="topic.update", obj=topic, team=topic.team,
                         before=before, after=after)
            catalogue_refresh([topic.pk])
    if kafka_changed:
        reconcile_soon(topic.cluster_id)
    return topic


def _without_generation(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k != "generation"}


def _mark_for_apply(topic: Topic) -> None:
    """A new desired generation: the reconciler applies it as soon as it can, backoff reset."""
    topic.generation += 1
    topic.status = ResourceStatus.PENDING
    topic.failures = 0
    topic.next_attempt_at = None
    topic.last_error = ""


@service_span
def topic_delete(*, actor, topic: Topic, confirm_name: str, delete_schemas: bool = False,
                 via: str = AuditEvent.Via.SYSTEM, change_request: ChangeRequest | None = None,
                 ) -> Topic | ChangeRequest:
    """Delete a topic from Kafka; the record is kept with status deleted.

    A topic with schemas is deleted only when the caller also agrees to delete their registry
    subjects (soft, then hard); a subject another schema references is kept by the reconciler.
    A cluster whose change policy gates ``topic.delete`` gets a ChangeRequest back (see topic_create).
    """
    if not can_write_team(actor, topic.team):
        raise PermissionDenied("Only owners and members of the team can delete its topics.")
    _raise_if(managed_errors(topic))
    if confirm_name != topic.name:
        raise ValidationError({"confirm_name": [f"Type the topic's name, {topic.name}, to confirm."]})
    schemas = list(topic.schemas.exclude(status=ResourceStatus.DELETED))
    if schemas and not delete_schemas:
        subjects = ", ".join(s.subject for s in schemas)
        raise ValidationError({"delete_schemas": [f"The topic has schemas ({subjects}). Confirm that their "
                                                  "subjects are deleted from the Schema Registry too."]})
    if topic.status == ResourceStatus.DELETED or topic.wants_deletion:
        raise ValidationError({"__all__": [GONE]})
    if not never_on_kafka(topic) and (opened := gate(
            actor=actor, cluster=topic.cluster, team=topic.team, operation="topic.delete", via=via,
                      payload={"topic": topic.pk, "confirm_name": confirm_name, "delete_schemas": delete_schemas},
            title=f"Delete topic {topic.name}", target=topic, change_request=change_request)):
        return opened
    with transaction.atomic():
        topic = _locked(topic, None)
        before = topic_snapshot(topic)
        _mark_for_apply(topic)
        topic.status = ResourceStatus.DELETING
        topic.delete_requested_at = timezone.now()
        topic.save()
        for schema in schemas:
            schema.generation += 1
            schema.status, schema.delete_requested_at = ResourceStatus.DELETING, topic.delete_requested_at
            schema.failures, schema.next_attempt_at, schema.last_error = 0, None, ""
            schema.save()
        audit_record(actor=actor, via=via, action="topic.delete", obj=topic, team=topic.team, before=before,
                     note=f"With schemas: {', '.join(s.subject for s in schemas)}" if schemas else "")
        aggregations_end_with_source(actor=actor, topic=topic, via=via)
        event_store_end_with_topic(actor=actor, topic=topic, via=via)
    reconcile_soon(topic.cluster_id)
    if schemas:
        schemas_reconcile_soon(topic.cluster_id)
    return topic


def never_on_kafka(topic: Topic) -> bool:
    """True for a topic no run ever applied (e.g. its creation failed) and none is applying now: it holds no
    data, so deleting it needs no change request even where deletes are gated."""
    return (topic.observed_generation == 0 and not topic.claim_token and topic.ready_at is None
            and not topic.attempts.filter(schema__isnull=True, outcome=ApplyAttempt.Outcome.READY).exists())


@service_span
def topic_apply_now(*, actor, topic: Topic, via: str = AuditEvent.Via.SYSTEM) -> None:
    """Operators: skip the backoff of a waiting topic and try again now."""
    if not is_operator(actor):
        raise PermissionDenied("Only platform operators can force a retry.")
    with transaction.atomic():
        waiting = Topic.objects.filter(pk=topic.pk, claim_token="",
                                       status__in=[ResourceStatus.FAILED, ResourceStatus.PENDING,
                                                   ResourceStatus.DELETING])
        if not waiting.update(next_attempt_at=None):
            raise ValidationError({"__all__": ["Only a pending, failed or deleting topic that is not being applied "
                                               "right now can be retried."]})
        audit_record(actor=actor, via=via, action="topic.apply_now", obj=topic, team=topic.team)
    reconcile_soon(topic.cluster_id)
