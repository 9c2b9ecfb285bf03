"""Consumer groups through the Kafka admin API: list, describe, committed offsets, watermarks, offsets for a
time, altering a group's offsets and deleting records. Its own value types, so callers never see
confluent-kafka's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import OffsetSpec

from onboarding.platform.errors import PlatformError
from onboarding.platform.kafka_admin import KafkaAdmin, translate
from portal.observability.tracing import traced_methods


@dataclass(frozen=True)
class GroupMember:
    member_id: str
    client_id: str
    host: str
    assignment: tuple[tuple[str, int], ...]  # (topic, partition), sorted


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str  # Kafka's words, lower case: stable, empty, dead, preparingrebalance, ...
    members: tuple[GroupMember, ...] = field(default=())

    @property
    def has_active_members(self) -> bool:
        return bool(self.members)


@dataclass(frozen=True)
class Watermarks:
    low: int
    high: int


def _state_name(state) -> str:
    name = getattr(state, "name", None) or str(state or "unknown")
    return name.lower()


@traced_methods("kafka.groups")
class ConsumerGroups:
    """One AdminClient's view of the consumer groups; every call is bounded by the admin's timeout."""

    def __init__(self, admin: KafkaAdmin):
        self.admin = admin
        self.client = admin.client
        self.timeout = admin.timeout

    def list_group_ids(self, prefix: str = "") -> list[str]:
        """Every group whose id starts with ``prefix``, sorted."""
        try:
            listed = self.client.list_consumer_groups(request_timeout=self.timeout).result(self.timeout + 5)
        except KafkaException as exc:
            raise translate(exc, "list consumer groups") from None
        return sorted(g.group_id for g in listed.valid if g.group_id.startswith(prefix))

    def describe(self, group_ids: Iterable[str]) -> dict[str, GroupDescription]:
        """State and members (with their assigned partitions) of each group; an unknown group is 'dead'."""
        ids = list(group_ids)
        if not ids:
            return {}
        futures = self.client.describe_consumer_groups(ids, request_timeout=self.timeout)
        described = {}
        for group_id, future in futures.items():
            try:
                answer = future.result(self.timeout + 5)
            except KafkaException as exc:
                raise translate(exc, "describe consumer group") from None
            members = tuple(GroupMember(
                m.member_id, m.client_id or "", m.host or "",
                tuple(sorted((tp.topic, tp.partition) for tp in (m.assignment.topic_partitions or []))))
                for m in answer.members)
            described[group_id] = GroupDescription(group_id, _state_name(answer.state), members)
        return described

    def committed(self, group_id: str) -> dict[tuple[str, int], int]:
        """The group's committed offsets on every topic it committed to: (topic, partition) -> offset."""
        request = [ConsumerGroupTopicPartitions(group_id)]
        try:
            answer = self.client.list_consumer_group_offsets(request, request_timeout=self.timeout)
            partitions = answer[group_id].result(self.timeout + 5).topic_partitions or []
        except KafkaException as exc:
            raise translate(exc, "committed offsets") from None
        return {(tp.topic, tp.partition): tp.offset for tp in partitions if tp.offset >= 0}

    def partitions(self, topics: Iterable[str]) -> dict[str, list[int]]:
        """Partition numbers of each topic on the cluster; an absent topic is left out."""
        try:
            metadata = self.client.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise translate(exc, "metadata request") from None
        result = {}
        for name in set(topics):
            described = metadata.topics.get(name)
            if described is not None and described.error is None and described.partitions:
                result[name] = sorted(described.partitions)
        return result

    def _offsets(self, partitions: dict[str, list[int]], spec) -> dict[tuple[str, int], int]:
        request = {TopicPartition(topic, p): spec for topic, numbers in partitions.items() for p in numbers}
        if not request:
            return {}
        try:
            futures = self.client.list_offsets(request, request_timeout=self.timeout)
            return {(tp.topic, tp.partition): future.result(self.timeout + 5).offset
                    for tp, future in futures.items()}
        except KafkaException as exc:
            raise translate(exc, "list offsets") from None

    def watermarks(self, topics: Iterable[str]) -> dict[tuple[str, int], Watermarks]:
        """The first and the next offset of every partition of ``topics`` (absent topics left out)."""
        partitions = self.partitions(topics)
        lows = self._offsets(partitions, OffsetSpec.earliest())
        highs = self._offsets(partitions, OffsetSpec.latest())
        return {key: Watermarks(lows[key], highs[key]) for key in highs}

    def end_offsets(self, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        """The next offset of every partition of ``topics`` (absent topics left out): one metadata request
        and one ListOffsets, whatever the number of topics."""
        return self._offsets(self.partitions(topics), OffsetSpec.latest())

    def topic_names(self, prefixes: tuple[str, ...]) -> set[str]:
        """Names of the cluster's topics that start with one of ``prefixes``."""
        try:
            metadata = self.client.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise translate(exc, "metadata request") from None
        return {name for name in metadata.topics if prefixes and name.startswith(prefixes)}

    def offsets_for_time(self, topic: str, timestamp_ms: int) -> dict[int, int | None]:
        """Per partition, the first offset whose timestamp is at or after ``timestamp_ms``; None when no event
        is that new."""
        partitions = self.partitions([topic])
        found = self._offsets(partitions, OffsetSpec.for_timestamp(timestamp_ms))
        return {p: (offset if offset >= 0 else None) for (_, p), offset in found.items()}

    def alter_offsets(self, group_id: str, offsets: dict[tuple[str, int], int]) -> None:
        """Set the group's committed offsets; Kafka refuses (non-retryable) while the group has members."""
        if not offsets:
            return
        request = [ConsumerGroupTopicPartitions(
            group_id, [TopicPartition(topic, p, offset) for (topic, p), offset in sorted(offsets.items())])]
        try:
            answer = self.client.alter_consumer_group_offsets(request, request_timeout=self.timeout)
            result = answer[group_id].result(self.timeout + 5)
        except KafkaException as exc:
            raise translate(exc, "alter consumer group offsets") from None
        failed = [tp for tp in (result.topic_partitions or []) if tp.error is not None]
        if failed:
            tp = failed[0]
            raise PlatformError(f"Kafka alter consumer group offsets failed on {tp.topic}[{tp.partition}]: "
                                f"{tp.error.str()}", retryable=tp.error.retriable(), code=tp.error.name())

    def delete_records(self, topic: str, before: dict[int, int]) -> dict[int, int]:
        """Delete every record of ``topic`` before the given offset of each partition; the new low
        watermark of each partition."""
        if not before:
            return {}
        try:
            futures = self.client.delete_records([TopicPartition(topic, p, offset) for p, offset in before.items()],
                                                 request_timeout=self.timeout, operation_timeout=self.timeout)
            return {tp.partition: future.result(self.timeout + 5).low_watermark for tp, future in futures.items()}
        except KafkaException as exc:
            raise translate(exc, "delete records") from None
