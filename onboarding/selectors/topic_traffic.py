"""A topic's produce rate over time, from the sampled end offsets (TopicTrafficSample): events per minute
between consecutive samples. Records only; sizes are not sampled."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from onboarding.models import Topic, TopicTrafficSample


def topic_rate_history(topic: Topic) -> list[tuple]:
    """(time, events per minute) for each sample after the first of the kept history; a lower end offset than
    the sample before (the topic recreated) counts as no traffic rather than a negative rate."""
    since = timezone.now() - timedelta(days=settings.TRAFFIC_HISTORY_DAYS)
    samples = list(TopicTrafficSample.objects.filter(cluster_id=topic.cluster_id, topic=topic.name,
                                                     sampled_at__gte=since)
                   .order_by("sampled_at").values_list("sampled_at", "end_offset"))
    points = []
    for (before, low), (at, high) in zip(samples, samples[1:], strict=False):
        minutes = (at - before).total_seconds() / 60 or 1.0
        points.append((at, round(max(0, high - low) / minutes)))
    return points


def topic_traffic_totals(topic: Topic) -> dict:
    """Events produced in the last hour and in the kept history, from the first and last samples."""
    now = timezone.now()
    rows = TopicTrafficSample.objects.filter(cluster_id=topic.cluster_id, topic=topic.name)
    last = rows.order_by("-sampled_at").values_list("end_offset", "sampled_at").first()
    if last is None:
        return {"samples": False}
    hour_ago = rows.filter(sampled_at__gte=now - timedelta(hours=1)).order_by("sampled_at") \
        .values_list("end_offset", flat=True).first()
    return {"samples": True, "end_offset": last[0], "last_sampled": last[1],
            "last_hour": max(0, last[0] - hour_ago) if hour_ago is not None else 0}
