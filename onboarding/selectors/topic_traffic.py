"""A topic's produce rate and size over time, from the traffic samples (TopicTrafficSample): events per minute
between consecutive samples of the end offsets, the topic's bytes on the brokers at each sample, and the totals the
traffic tab heads them with. One query reads the kept history; everything else is computed from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from onboarding.models import Topic

SAMPLES = ("SELECT sampled_at, end_offset, size_bytes FROM onboarding_topictrafficsample "
           "WHERE cluster_id = %s AND topic = %s AND sampled_at >= %s ORDER BY sampled_at")


@dataclass(frozen=True)
class TopicTraffic:
    rates: list[tuple[datetime, int]]  # (time, events per minute since the sample before)
    sizes: list[tuple[datetime, int]]  # (time, bytes on the brokers), samples that have a size
    totals: dict


def topic_traffic(topic: Topic, *, now: datetime | None = None) -> TopicTraffic:
    now = now or timezone.now()
    since = now - timedelta(days=settings.TRAFFIC_HISTORY_DAYS)
    # By hand: the tab reads nothing else, and the ORM took longer to build this statement than to run it.
    with connection.cursor() as cursor:
        cursor.execute(SAMPLES, [topic.cluster_id, topic.name, since])
        samples = cursor.fetchall()
    return TopicTraffic(rates=rates_of(samples), sizes=[(at, size) for at, _, size in samples if size is not None],
                        totals=totals_of(samples, now))


def rates_of(samples: list[tuple]) -> list[tuple[datetime, int]]:
    """(time, events per minute) for each sample after the first; a lower end offset than the sample before (the
    topic recreated) counts as no traffic rather than a negative rate."""
    points = []
    for (before, low, _), (at, high, _) in zip(samples, samples[1:], strict=False):
        minutes = (at - before).total_seconds() / 60 or 1.0
        points.append((at, round(max(0, high - low) / minutes)))
    return points


def totals_of(samples: list[tuple], now: datetime) -> dict:
    """Events produced in the last hour and ever, from the first sample of the hour and the last; the size at the
    last sample, and the average event size over the hour (bytes added per event added, while retention deleted
    nothing in between)."""
    if not samples:
        return {"samples": False}
    last_at, end_offset, size = samples[-1]
    hour = [sample for sample in samples if sample[0] >= now - timedelta(hours=1)]
    events = max(0, end_offset - hour[0][1]) if hour else 0
    grown = size - hour[0][2] if hour and None not in (size, hour[0][2]) else None
    return {"samples": True, "end_offset": end_offset, "last_sampled": last_at, "last_hour": events,
            "size_bytes": size, "event_bytes": round(grown / events) if events and grown and grown > 0 else None}
