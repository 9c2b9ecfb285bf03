"""A team's usage against its quota on each cluster, for the team page (the rules are services/team_quotas.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from onboarding.models import Cluster, ResourceStatus, Team, Topic
from onboarding.models.clusters import TeamQuota
from onboarding.services.team_quotas import human_bytes, limits_for, usage_of


@dataclass(frozen=True)
class QuotaLine:
    label: str
    used: str
    limit: str | None
    percent: int | None


@dataclass(frozen=True)
class ClusterUsage:
    cluster: Cluster
    lines: list[QuotaLine]


def _line(label: str, value: int, limit: int | None, show=str) -> QuotaLine:
    percent = None if not limit else min(100, int(value * 100 / limit))
    return QuotaLine(label, show(value), None if limit is None else show(limit), percent)


def team_quota_usage(team: Team) -> list[ClusterUsage]:
    """Every active cluster where the team holds topics or a quota applies to it."""
    quota_clusters = TeamQuota.objects.filter(Q(team__isnull=True) | Q(team=team)).values("cluster_id")
    topic_clusters = Topic.objects.filter(team=team, delete_requested_at__isnull=True).exclude(
        status=ResourceStatus.DELETED).values("cluster_id")
    clusters = Cluster.objects.filter(Q(pk__in=quota_clusters) | Q(pk__in=topic_clusters),
                                      is_active=True).order_by("order", "name")
    result = []
    for cluster in clusters:
        limits = limits_for(cluster, team)
        used = usage_of(cluster, team, limits=limits)
        result.append(ClusterUsage(cluster, [
            _line("Topics", used.topics, limits.max_topics),
            _line("Partitions", used.partitions, limits.max_partitions),
            _line("Disk (retention.bytes x partitions)", used.disk_bytes, limits.max_disk_bytes, human_bytes)]))
    return result
