"""Register many topics at once (GitOps manifests, bulk API calls, migrations between clusters).

Same rules as topic_create, checked for every item and across the batch, then one transaction,
two bulk inserts (topics, audit records) and one reconcile run for the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from onboarding.audit import audit_event
from onboarding.changes.gate import approval_needed, change_request_open
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, Cluster, ResourceStatus, Team, Topic
from onboarding.permissions import can_write_team
from onboarding.queue import reconcile_soon
from onboarding.services import team_quotas
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.topics import _normalized, policy_for, topic_create_errors, topic_snapshot

BATCH = 100


@dataclass(frozen=True)
class TopicRequest:
    name: str
    partitions: int | None = None
    replication_factor: int | None = None
    configs: dict = field(default_factory=dict)
    description: str = ""
    tags: tuple[str, ...] = ()
    visibility: str = Topic.Visibility.PUBLIC


def topics_create_many(*, actor, cluster: Cluster, team: Team, requests: list[TopicRequest],
                       via: str = AuditEvent.Via.SYSTEM) -> list[Topic] | ChangeRequest:
    """All or nothing: any invalid item refuses the batch with errors keyed by item position.

    On a cluster whose change policy gates ``topic.create``, the valid batch becomes one ChangeRequest
    (one change per topic), returned instead of the topics.
    """
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the team can create its topics.")
    policy = policy_for(cluster)
    live = Topic.objects.filter(cluster=cluster).exclude(status=ResourceStatus.DELETED)
    taken = dict(live.values_list("collision_key", "name"))
    errors, topics = {}, []
    for position, request in enumerate(requests):
        partitions = policy.default_partitions if request.partitions is None else request.partitions
        factor = policy.default_replication_factor if request.replication_factor is None else request.replication_factor
        configs = {**policy.default_configs, **request.configs}
        name = request.name.strip()
        # Names are checked against the batch here, against the database in one query above.
        item_errors = topic_create_errors(cluster=cluster, team=team, name=name, partitions=partitions,
                                          replication_factor=factor, configs=configs,
                                          description=request.description, tags=request.tags,
                                          visibility=request.visibility, check_existing=False,
                                          policy=policy, check_quota=False)
        key = name.replace(".", "_")
        if "name" not in item_errors and key in taken:
            item_errors["name"] = [f"A topic with this name already exists on this cluster ({taken[key]})."
                                   if taken[key] == name else f"This name collides with {taken[key]}: Kafka treats "
                                   "'.' and '_' alike in metric names."]
        taken.setdefault(key, name)
        if item_errors:
            errors[str(position)] = item_errors
            continue
        topics.append(Topic(cluster=cluster, team=team, name=name, collision_key=key, partitions=partitions,
                            replication_factor=factor, configs=_normalized(configs), description=request.description,
                            tags=list(request.tags), visibility=request.visibility))
    if errors:
        raise ValidationError({"topics": [f"item {p}: {f}: {'; '.join(m)}" for p, e in errors.items()
                                          for f, m in e.items()]})
    # The team's quota holds for the batch as a whole: ten topics that each fit may not fit together.
    if over := team_quotas.quota_errors(
            cluster, team, topics=len(topics), partitions=sum(t.partitions for t in topics),
            disk_bytes=sum(team_quotas.disk_of(t.partitions, t.configs, cluster, team) for t in topics)):
        raise ValidationError({"topics": [m for messages in over.values() for m in messages]})
    if approval_needed(cluster, "topic.create"):
        changes = [{"operation": "topic.create", "payload": {
            "cluster": cluster.pk, "team": team.pk, "name": t.name, "partitions": t.partitions,
            "replication_factor": t.replication_factor, "configs": t.configs, "description": t.description,
            "tags": t.tags, "visibility": t.visibility}} for t in topics]
        return change_request_open(actor=actor, cluster=cluster, team=team, changes=changes, via=via,
                                   title=f"Create {len(topics)} topics of {team.slug} on {cluster.name}")
    try:
        with transaction.atomic():
            # Equal-sized batches share one SQL text, which psycopg converts once and caches.
            Topic.objects.bulk_create(topics, batch_size=BATCH)
            AuditEvent.objects.bulk_create([
                audit_event(actor=actor, via=via, action="topic.create", obj=topic, team=team,
                            after=topic_snapshot(topic)) for topic in topics], batch_size=BATCH)
            catalogue_refresh([topic.pk for topic in topics])
    except IntegrityError:
        raise ValidationError({"topics": ["Another change registered one of these names meanwhile; retry."]}) from None
    reconcile_soon(cluster.pk)
    return topics

