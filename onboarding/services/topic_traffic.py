"""Traffic over time: the beat task samples the end offsets of every topic a team owns (by its ``<slug>.``
prefix, so dead-letter topics no one registered are included) into TopicTrafficSample rows, and prunes rows
older than TRAFFIC_HISTORY_DAYS. One metadata request and one ListOffsets per cluster, whatever the number
of topics."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from onboarding.models import Cluster, Team, TopicTrafficSample
from onboarding.platform.errors import PlatformError
from onboarding.services.groups import consumer_groups_for


def traffic_sample(cluster: Cluster, *, now=None) -> int:
    """One row per team topic on ``cluster`` with the sum of its partitions' end offsets; rows written."""
    now = now or timezone.now()
    prefixes = tuple(f"{slug}." for slug in Team.objects.values_list("slug", flat=True))
    if not prefixes:
        return 0
    groups = consumer_groups_for(cluster)
    totals: dict[str, int] = defaultdict(int)
    for (topic, _), offset in groups.end_offsets(groups.topic_names(prefixes)).items():
        totals[topic] += max(0, offset)
    TopicTrafficSample.objects.bulk_create(
        TopicTrafficSample(cluster=cluster, topic=topic, sampled_at=now, end_offset=total)
        for topic, total in sorted(totals.items()))
    return len(totals)


def traffic_prune(*, now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=settings.TRAFFIC_HISTORY_DAYS)
    deleted, _ = TopicTrafficSample.objects.filter(sampled_at__lt=cutoff).delete()
    return deleted


def traffic_sample_all() -> dict:
    """One sample of every cluster, then the prune; a cluster that does not answer is skipped (a gap in its
    plots) and named, so one broker outage never stops the others' history."""
    written, failed = 0, []
    for cluster in Cluster.objects.order_by("name"):
        try:
            written += traffic_sample(cluster)
        except PlatformError as exc:
            failed.append(f"{cluster.name}: {exc}")
    return {"written": written, "pruned": traffic_prune(), "failed": failed}
