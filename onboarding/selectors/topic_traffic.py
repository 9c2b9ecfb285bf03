"""A topic's produce rate and size over time, from the traffic samples (TopicTrafficSample): events per minute
between consecutive samples of the end offsets, and the topic's bytes on the brokers at each sample."""

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


def topic_size_history(topic: Topic) -> list[tuple]:
    """(time, bytes on the brokers) for each sample of the kept history that has a size."""
    since = timezone.now() - timedelta(days=settings.TRAFFIC_HISTORY_DAYS)
    return list(TopicTrafficSample.objects.filter(cluster_id=topic.cluster_id, topic=topic.name,
                                                  sampled_at__gte=since, size_bytes__isnull=False)
                .order_by("sampled_at").values_list("sampled_at", "size_bytes"))


def topic_traffic_totals(topic: Topic) -> dict:
    """Events produced in the last hour and in the kept history, from the first and last samples; the size at the
    last sample, and the average event size over the last hour (bytes added per event added, while retention
    deleted nothing in between)."""
    now = timezone.now()
    rows = TopicTrafficSample.objects.filter(cluster_id=topic.cluster_id, topic=topic.name)
    last = rows.order_by("-sampled_at").values_list("end_offset", "sampled_at", "size_bytes").first()
    if last is None:
        return {"samples": False}
    end_offset, sampled_at, size = last
    hour_ago = rows.filter(sampled_at__gte=now - timedelta(hours=1)).order_by("sampled_at") \
        .values_list("end_offset", "size_bytes").first()
    events = max(0, end_offset - hour_ago[0]) if hour_ago is not None else 0
    grown = size - hour_ago[1] if hour_ago is not None and None not in (size, hour_ago[1]) else None
    return {"samples": True, "end_offset": end_offset, "last_sampled": sampled_at, "last_hour": events,
            "size_bytes": size, "event_bytes": round(grown / events) if events and grown and grown > 0 else None}
