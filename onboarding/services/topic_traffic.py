"""Traffic over time: the beat task samples the end offsets and the size on the brokers of every topic a team
owns (by its ``<slug>.`` prefix, so dead-letter topics no one registered are included) into TopicTrafficSample
rows, and prunes rows older than TRAFFIC_HISTORY_DAYS. One metadata request, one ListOffsets and one
DescribeLogDirs per broker per cluster, whatever the number of topics. Sizes that cannot be read leave the
samples' sizes empty and the offsets are kept."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.utils import timezone

from onboarding.models import Cluster, TopicTrafficSample
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_log_dirs import KafkaLogDirs
from onboarding.services.groups import consumer_groups_for
from onboarding.services.sampling import prune_older_than, sample_every_cluster, team_prefixes

logger = logging.getLogger(__name__)


def traffic_sample(cluster: Cluster, *, now=None) -> int:
    """One row per team topic on ``cluster`` with the sum of its partitions' end offsets; rows written."""
    now = now or timezone.now()
    prefixes = team_prefixes()
    if not prefixes:
        return 0
    groups = consumer_groups_for(cluster)
    names = groups.topic_names(prefixes)
    totals: dict[str, int] = defaultdict(int)
    for (topic, _), offset in groups.end_offsets(names).items():
        totals[topic] += max(0, offset)
    sizes = _sizes(cluster, names)
    TopicTrafficSample.objects.bulk_create(
        TopicTrafficSample(cluster=cluster, topic=topic, sampled_at=now, end_offset=total, size_bytes=sizes.get(topic))
        for topic, total in sorted(totals.items()))
    return len(totals)


def _sizes(cluster: Cluster, names: set[str]) -> dict[str, int]:
    """Topic sizes, or none: the rate is worth keeping when the log directories cannot be read."""
    try:
        with KafkaLogDirs(kafka_connection_for(cluster), timeout=settings.CONSUMER_GROUPS_TIMEOUT_SECONDS) as dirs:
            return dirs.topic_sizes(names)
    except PlatformError as exc:
        logger.warning("traffic sample of %s without sizes: %s", cluster.name, exc)
        return {}


def traffic_prune(*, now=None) -> int:
    return prune_older_than(TopicTrafficSample, settings.TRAFFIC_HISTORY_DAYS, now=now)


def traffic_sample_all() -> dict:
    return sample_every_cluster(traffic_sample, traffic_prune)
