"""Traffic over time: the beat task samples the end offsets of every topic a team owns (by its ``<slug>.``
prefix, so dead-letter topics no one registered are included) into TopicTrafficSample rows, and prunes rows
older than TRAFFIC_HISTORY_DAYS. One metadata request and one ListOffsets per cluster, whatever the number
of topics."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.utils import timezone

from onboarding.models import Cluster, TopicTrafficSample
from onboarding.services.groups import consumer_groups_for
from onboarding.services.sampling import prune_older_than, sample_every_cluster, team_prefixes


def traffic_sample(cluster: Cluster, *, now=None) -> int:
    """One row per team topic on ``cluster`` with the sum of its partitions' end offsets; rows written."""
    now = now or timezone.now()
    prefixes = team_prefixes()
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
    return prune_older_than(TopicTrafficSample, settings.TRAFFIC_HISTORY_DAYS, now=now)


def traffic_sample_all() -> dict:
    return sample_every_cluster(traffic_sample, traffic_prune)
