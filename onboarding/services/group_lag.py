"""Lag over time: the beat task samples every team group's lag per topic into LagSample rows and prunes rows
older than LAG_HISTORY_DAYS, so the history stays bounded whatever the number of groups."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from onboarding.models import Cluster, LagSample
from onboarding.services.groups import consumer_groups_for
from onboarding.services.sampling import prune_older_than, sample_every_cluster, team_prefixes


def lag_sample(cluster: Cluster, *, now=None) -> int:
    """Sample the lag of every group a team owns (by its ``<slug>.`` prefix) on ``cluster``; rows written."""
    now = now or timezone.now()
    groups = consumer_groups_for(cluster)
    prefixes = team_prefixes()
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
    return prune_older_than(LagSample, settings.LAG_HISTORY_DAYS, now=now)


def lag_sample_all() -> dict:
    return sample_every_cluster(lag_sample, lag_prune)
