"""Lag over time: the beat task samples every team group's lag per topic into LagSample rows and prunes rows
older than LAG_HISTORY_DAYS, so the history stays bounded whatever the number of groups."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from onboarding.models import Cluster, LagSample, Team
from onboarding.platform.errors import PlatformError
from onboarding.services.groups import consumer_groups_for


def lag_sample(cluster: Cluster, *, now=None) -> int:
    """Sample the lag of every group a team owns (by its ``<slug>.`` prefix) on ``cluster``; rows written."""
    now = now or timezone.now()
    groups = consumer_groups_for(cluster)
    prefixes = tuple(f"{slug}." for slug in Team.objects.values_list("slug", flat=True))
    group_ids = [g for g in groups.list_group_ids() if prefixes and g.startswith(prefixes)]
    committed = {group_id: groups.committed(group_id) for group_id in group_ids}
    topics = {topic for offsets in committed.values() for topic, _ in offsets}
    marks = groups.watermarks(topics) if topics else {}
    rows = []
    for group_id, offsets in committed.items():
        per_topic: dict[str, int] = {}
        for (topic, partition), offset in offsets.items():
            if (topic, partition) in marks:
                per_topic[topic] = per_topic.get(topic, 0) + max(0, marks[(topic, partition)].high - offset)
        rows += [LagSample(cluster=cluster, group_id=group_id, topic=topic, sampled_at=now, lag=lag)
                 for topic, lag in per_topic.items()]
    LagSample.objects.bulk_create(rows)
    return len(rows)


def lag_prune(*, now=None) -> int:
    """Delete samples older than the kept history; the number deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LAG_HISTORY_DAYS)
    deleted, _ = LagSample.objects.filter(sampled_at__lt=cutoff).delete()
    return deleted


def lag_sample_all() -> dict:
    """One sample of every cluster, then the prune; a cluster that does not answer is skipped (its plot has a
    gap) and named in the result, so one broker outage never stops the others' history."""
    written, failed = 0, []
    for cluster in Cluster.objects.order_by("name"):
        try:
            written += lag_sample(cluster)
        except PlatformError as exc:
            failed.append(f"{cluster.name}: {exc}")
    return {"written": written, "pruned": lag_prune(), "failed": failed}
