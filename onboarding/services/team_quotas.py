"""How much of a cluster a team may hold (TeamQuota) and how much it holds: topics, partitions and disk.

Every service that adds topics or partitions or raises retention.bytes asks ``quota_errors`` before it saves:
topic_create_errors (create, aggregation outputs, promotion, GitOps), topics_create_many for the whole batch,
topic_update_errors (partitions, configs; growth only) and topics_import. The messages are field-level and the
same in the pages and the API. With no quota on the cluster nothing is counted.

Disk is retention.bytes x partitions per topic (the bytes a topic may keep before Kafka deletes old segments;
replicas are the platform's cost, not the team's choice). A topic without a byte limit (retention.bytes -1 or not
set) counts as the cluster's largest allowed retention.bytes (its topic policy's rule), else as the default
quota's ``unlimited_topic_bytes``, else 1 GiB per partition: an unlimited topic is never free.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied
from onboarding.models import AuditEvent, Cluster, ResourceStatus, Team, Topic, TopicPolicy
from onboarding.models.clusters import TeamQuota
from onboarding.permissions import is_operator
from onboarding.services.topic_policy import policy_for

UNLIMITED_FALLBACK_BYTES = 1024 ** 3
LIMITS = ("max_topics", "max_partitions", "max_disk_bytes")


@dataclass(frozen=True)
class Limits:
    max_topics: int | None = None
    max_partitions: int | None = None
    max_disk_bytes: int | None = None
    unlimited_topic_bytes: int = UNLIMITED_FALLBACK_BYTES

    @property
    def any(self) -> bool:
        return any(getattr(self, name) is not None for name in LIMITS)


@dataclass(frozen=True)
class Usage:
    topics: int = 0
    partitions: int = 0
    disk_bytes: int = 0


def limits_for(cluster: Cluster, team: Team) -> Limits:
    """The cluster's default with the team's override on top, field by field (one query)."""
    rows = {row.team_id: row for row in TeamQuota.objects.filter(Q(team__isnull=True) | Q(team=team), cluster=cluster)}
    default, override = rows.get(None), rows.get(team.pk)
    values = {name: next((getattr(row, name) for row in (override, default)
                          if row is not None and getattr(row, name) is not None), None) for name in LIMITS}
    unlimited = default.unlimited_topic_bytes if default is not None and default.unlimited_topic_bytes else None
    return Limits(**values, unlimited_topic_bytes=unlimited or UNLIMITED_FALLBACK_BYTES)


def _unlimited_bytes(policy: TopicPolicy, limits: Limits) -> int:
    rule = (policy.config_rules or {}).get("retention.bytes") or {}
    maximum = rule.get("max")
    return int(maximum) if isinstance(maximum, int) and maximum > 0 else limits.unlimited_topic_bytes


def topic_disk_bytes(partitions: int, configs: dict | None, policy: TopicPolicy, limits: Limits) -> int:
    """What one topic counts against the disk quota."""
    raw = (configs or {}).get("retention.bytes", (policy.default_configs or {}).get("retention.bytes"))
    try:
        per_partition = int(raw)
    except (TypeError, ValueError):
        per_partition = -1
    if per_partition <= 0:
        per_partition = _unlimited_bytes(policy, limits)
    return per_partition * max(int(partitions or 0), 0)


def live_topics(cluster: Cluster, team: Team):
    return Topic.objects.filter(cluster=cluster, team=team, delete_requested_at__isnull=True).exclude(
        status=ResourceStatus.DELETED)


def usage_of(cluster: Cluster, team: Team, *, limits: Limits | None = None, policy: TopicPolicy | None = None) -> Usage:
    limits = limits or limits_for(cluster, team)
    policy = policy or policy_for(cluster)
    rows = live_topics(cluster, team)
    topics = partitions = disk = 0
    for count, configs in rows.values_list("partitions", "configs"):
        topics += 1
        partitions += count
        disk += topic_disk_bytes(count, configs, policy, limits)
    return Usage(topics, partitions, disk)


def human_bytes(value: int) -> str:
    for unit, size in (("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if value >= size:
            shown = f"{value / size:.1f}".removesuffix(".0")
            return f"{shown} {unit}"
    return f"{value} bytes"


def quota_errors(cluster: Cluster, team: Team, *, topics: int = 0, partitions: int = 0, disk_bytes: int = 0,
                 disk_field: str = "partitions") -> dict[str, list[str]]:
    """Field errors when adding ``topics``, ``partitions`` and ``disk_bytes`` to the team's usage on the cluster
    would pass its quota (a change of a topic passes what it adds)."""
    limits = limits_for(cluster, team)
    if not limits.any:
        return {}
    used = usage_of(cluster, team, limits=limits)
    errors: dict[str, list[str]] = {}
    if limits.max_topics is not None and topics and used.topics + topics > limits.max_topics:
        errors["name"] = [f"This would exceed your team's quota of {limits.max_topics} topics "
                          f"(you use {used.topics})."]
    if limits.max_partitions is not None and partitions and used.partitions + partitions > limits.max_partitions:
        errors["partitions"] = [f"This would exceed your team's quota of {limits.max_partitions} partitions "
                                f"(you use {used.partitions})."]
    if limits.max_disk_bytes is not None and disk_bytes and used.disk_bytes + disk_bytes > limits.max_disk_bytes:
        message = (f"This would exceed your team's quota of {human_bytes(limits.max_disk_bytes)} of disk "
                   f"(you use {human_bytes(used.disk_bytes)}).")
        # Config messages name their key first, so the form puts them beside that key's input.
        errors.setdefault(disk_field, []).append(message if disk_field != "configs" else f"retention.bytes: {message}")
    return errors


def disk_of(partitions: int, configs: dict | None, cluster: Cluster, team: Team) -> int:
    return topic_disk_bytes(partitions, configs, policy_for(cluster), limits_for(cluster, team))


def team_quota_snapshot(quota: TeamQuota) -> dict:
    return {"cluster": quota.cluster.name, "team": quota.team.slug if quota.team_id else None,
            **{name: getattr(quota, name) for name in (*LIMITS, "unlimited_topic_bytes")}}


def team_quota_save(*, actor, quota: TeamQuota, via: str = AuditEvent.Via.SYSTEM) -> TeamQuota:
    """Operators set a cluster's default quota or a team's override (the admin's cluster and team pages)."""
    if not is_operator(actor):
        raise PermissionDenied("Only platform operators set quotas.")
    quota.full_clean()
    before = None
    if quota.pk is not None:
        before = team_quota_snapshot(TeamQuota.objects.select_related("cluster", "team").get(pk=quota.pk))
    with transaction.atomic():
        quota.save()
        audit_record(actor=actor, via=via, action="team_quota.update" if before else "team_quota.create", obj=quota,
                     team=quota.team, before=before, after=team_quota_snapshot(quota))
    return quota


def team_quota_delete(*, actor, quota: TeamQuota, via: str = AuditEvent.Via.SYSTEM) -> None:
    if not is_operator(actor):
        raise PermissionDenied("Only platform operators set quotas.")
    with transaction.atomic():
        audit_record(actor=actor, via=via, action="team_quota.delete", obj=quota, team=quota.team,
                     before=team_quota_snapshot(quota))
        quota.delete()
