"""Reads of consumer groups for the pages and the API: a team's groups, one group's partitions with offsets,
members and lag (asked of Kafka through platform/), the sampled lag history and the reset requests."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from onboarding.groups.lag_chart import LagChart, lag_chart
from onboarding.models import Cluster, LagSample, OffsetReset, Subscription, Team, Topic
from onboarding.permissions import is_operator, is_team_owner
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.consumer_groups import ConsumerGroups
from onboarding.platform.kafka_admin import KafkaAdmin


def _groups(cluster: Cluster) -> ConsumerGroups:
    return ConsumerGroups(KafkaAdmin(kafka_connection_for(cluster), timeout=settings.CONSUMER_GROUPS_TIMEOUT_SECONDS))


def team_groups(team: Team, cluster: Cluster) -> list[dict]:
    """The team's groups on ``cluster``: state, member count, topics read and total lag. PlatformError when
    Kafka does not answer."""
    groups = _groups(cluster)
    ids = groups.list_group_ids(f"{team.slug}.")
    described = groups.describe(ids)
    committed = {group_id: groups.committed(group_id) for group_id in ids}
    marks = groups.watermarks({t for offsets in committed.values() for t, _ in offsets})
    rows = []
    for group_id in ids:
        offsets = committed[group_id]
        lag = sum(max(0, marks[key].high - offset) for key, offset in offsets.items() if key in marks)
        description = described.get(group_id)
        rows.append({"group_id": group_id, "state": description.state if description else "unknown",
                     "members": len(description.members) if description else 0,
                     "topics": sorted({t for t, _ in offsets}), "lag": lag})
    return rows


def group_detail(cluster: Cluster, group_id: str) -> dict:
    """State, members and one row per partition the group committed to or is assigned (offset, end, lag,
    the member reading it)."""
    groups = _groups(cluster)
    description = groups.describe([group_id]).get(group_id)
    committed = groups.committed(group_id)
    owner = {key: member for member in (description.members if description else ()) for key in member.assignment}
    keys = set(committed) | set(owner)
    marks = groups.watermarks({t for t, _ in keys})
    partitions = []
    for topic, partition in sorted(keys):
        mark, offset, member = marks.get((topic, partition)), committed.get((topic, partition)), \
            owner.get((topic, partition))
        partitions.append({"topic": topic, "partition": partition, "committed": offset,
                           "low": mark.low if mark else None, "high": mark.high if mark else None,
                           "lag": max(0, mark.high - offset) if mark and offset is not None else None,
                           "member": f"{member.client_id} ({member.host})" if member else ""})
    return {"group_id": group_id, "state": description.state if description else "unknown",
            "members": [{"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                         "partitions": [f"{t}[{p}]" for t, p in m.assignment]}
                        for m in (description.members if description else ())],
            "partitions": partitions, "topics": sorted({t for t, _ in keys}),
            "lag": sum(p["lag"] or 0 for p in partitions)}


def _since():
    return timezone.now() - timedelta(days=settings.LAG_HISTORY_DAYS)


def _series(samples, label) -> dict:
    series: dict[str, list] = {}
    for sample in samples:
        series.setdefault(label(sample), []).append((sample.sampled_at, sample.lag))
    return series


def group_lag_history(cluster: Cluster, group_id: str) -> dict:
    """The group's sampled lag, one series per topic."""
    samples = LagSample.objects.filter(cluster=cluster, group_id=group_id, sampled_at__gte=_since())
    return _series(samples.only("topic", "sampled_at", "lag"), lambda s: s.topic)


def topic_lag_history(topic: Topic, *, group_prefix: str = "") -> dict:
    """The sampled lag of the groups reading ``topic`` (those starting with ``group_prefix``), one series each."""
    samples = LagSample.objects.filter(cluster_id=topic.cluster_id, topic=topic.name, sampled_at__gte=_since())
    if group_prefix:
        samples = samples.filter(group_id__startswith=group_prefix)
    return _series(samples.only("group_id", "sampled_at", "lag"), lambda s: s.group_id)


def chart(history: dict) -> LagChart:
    return lag_chart(history)


def subscription_lag_chart(sub: Subscription) -> LagChart:
    """A direct subscription's groups read the source; a routed one's read the team's destination."""
    topic = sub.destination if sub.mode == Subscription.Mode.ROUTED and sub.destination else sub.source
    return lag_chart(topic_lag_history(topic, group_prefix=f"{sub.subscriber.slug}."))


def group_resets(cluster: Cluster, group_id: str):
    return (OffsetReset.objects.filter(cluster=cluster, group_id=group_id)
            .select_related("topic__team", "requested_by", "decided_by")[:20])


def resets_visible_to(user):
    """Resets of the user's teams' groups and of topics whose team the user owns (to decide on them)."""
    qs = OffsetReset.objects.select_related("cluster", "team", "topic__team", "requested_by", "decided_by")
    if is_operator(user):
        return qs
    teams = list(Team.objects.filter(memberships__user=user))
    owned = [t.pk for t in teams if is_team_owner(user, t)]
    return qs.filter(Q(team__in=teams) | Q(topic__team_id__in=owned))


def resets_waiting_on_topic(topic: Topic):
    return OffsetReset.objects.filter(topic=topic, status=OffsetReset.Status.REQUESTED).select_related(
        "team", "requested_by")
