"""The Kafka admin API (confluent-kafka AdminClient), behind PlatformError."""

from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)
from django.conf import settings

from onboarding.platform.connection import KafkaConnection, default_kafka_connection
from onboarding.platform.errors import PlatformError
from onboarding.platform.types import DesiredTopic, ObservedTopic
from portal.observability.tracing import traced_methods

# Errors where the same request can succeed later without anyone changing it.
_RETRYABLE_CODES = {
    KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._RESOLVE,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError.NOT_CONTROLLER,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.BROKER_NOT_AVAILABLE,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.THROTTLING_QUOTA_EXCEEDED,
}


def translate(exc: Exception, action: str) -> PlatformError:
    """Turn a confluent-kafka failure into a PlatformError with a plain message."""
    error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    if error is None:
        return PlatformError(f"Kafka {action} failed: {exc}", retryable=True, code="unknown")
    retryable = error.retriable() or error.code() in _RETRYABLE_CODES
    return PlatformError(f"Kafka {action} failed: {error.str()}", retryable=retryable, code=error.name())


@traced_methods("kafka.admin")
class KafkaAdmin:
    """One AdminClient per reconcile run; every call is bounded by ``timeout`` seconds."""

    def __init__(self, connection: KafkaConnection | None = None, *, timeout: float | None = None):
        self.connection = connection or default_kafka_connection()
        self.timeout = float(timeout or settings.KAFKA_ADMIN_TIMEOUT_SECONDS)
        self.client = AdminClient({**self.connection.client_config(), "socket.connection.setup.timeout.ms": 5000})

    def ping(self) -> int:
        """Return the number of brokers that answered a metadata request."""
        try:
            metadata = self.client.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise translate(exc, "metadata request") from None
        return len(metadata.brokers)

    # ------------------------------------------------------------------ topics (batched)
    def list_topic_names(self) -> set[str]:
        """Every topic on the cluster, Kafka's internal ones excluded."""
        try:
            metadata = self.client.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise translate(exc, "metadata request") from None
        return {name for name in metadata.topics if not name.startswith("__")}

    def describe_topics(self, names: Iterable[str] | None = None) -> dict[str, ObservedTopic]:
        """Partitions, replication factor and topic-level configs; absent topics are left out.

        One metadata request and one DescribeConfigs batch, whatever the number of topics.
        """
        try:
            metadata = self.client.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise translate(exc, "metadata request") from None
        wanted = set(names) if names is not None else None
        shapes = {}
        for name, topic in metadata.topics.items():
            if name.startswith("__") or (wanted is not None and name not in wanted) or topic.error is not None:
                continue
            replicas = [len(p.replicas) for p in topic.partitions.values()]
            shapes[name] = (len(topic.partitions), max(replicas, default=0))
        if not shapes:
            return {}
        configs = self._topic_configs(list(shapes))
        return {name: ObservedTopic(name, partitions, factor, configs.get(name, {}))
                for name, (partitions, factor) in shapes.items()}

    def _topic_configs(self, names: list[str]) -> dict[str, dict[str, str]]:
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
        futures = self.client.describe_configs(resources, request_timeout=self.timeout)
        result = {}
        for resource, future in futures.items():
            try:
                entries = future.result(self.timeout)
            except KafkaException as exc:
                error = translate(exc, "describe configs")
                if error.code == "UNKNOWN_TOPIC_OR_PART":
                    continue  # deleted between the two requests
                raise error from None
            result[resource.name] = {key: entry.value for key, entry in entries.items()
                                     if entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value}
        return result

    def create_topics(self, topics: list[DesiredTopic]) -> dict[str, PlatformError | None]:
        if not topics:
            return {}
        new = [NewTopic(t.name, num_partitions=t.partitions, replication_factor=t.replication_factor,
                        config=dict(t.configs)) for t in topics]
        futures = self.client.create_topics(new, operation_timeout=self.timeout, request_timeout=self.timeout)
        return self._outcomes(futures, "create topic", tolerate="TOPIC_ALREADY_EXISTS")

    def alter_configs(self, changes: dict[str, tuple[dict[str, str], list[str]]]) -> dict[str, PlatformError | None]:
        """Incremental: SET the given keys and DELETE (back to default) the listed ones, per topic."""
        if not changes:
            return {}
        resources = []
        for name, (to_set, to_delete) in changes.items():
            entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in to_set.items()]
            entries += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in to_delete]
            resources.append(ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries))
        futures = self.client.incremental_alter_configs(resources, request_timeout=self.timeout)
        return self._outcomes({r.name: f for r, f in futures.items()}, "alter configs")

    def create_partitions(self, totals: dict[str, int]) -> dict[str, PlatformError | None]:
        if not totals:
            return {}
        futures = self.client.create_partitions([NewPartitions(n, total) for n, total in totals.items()],
                                                operation_timeout=self.timeout, request_timeout=self.timeout)
        return self._outcomes(futures, "add partitions")

    def delete_topics(self, names: list[str]) -> dict[str, PlatformError | None]:
        if not names:
            return {}
        futures = self.client.delete_topics(names, operation_timeout=self.timeout, request_timeout=self.timeout)
        return self._outcomes(futures, "delete topic", tolerate="UNKNOWN_TOPIC_OR_PART")

    def await_metadata(self, *, present: set[str], absent: set[str], timeout: float = 10.0) -> bool:
        """Wait until brokers list the created topics and no longer list the deleted ones.

        The controller answers once a change is committed; brokers' metadata caches follow a moment
        later. Waiting here means "ready" tells a team that its clients can use the topic now.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                names = set(self.client.list_topics(timeout=self.timeout).topics)
            except KafkaException:
                names = None
            if names is not None and present <= names and not (absent & names):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def consumer_lag(self, topic: str, *, group: str | None = None, group_prefix: str | None = None) -> int | None:
        """Messages of ``topic`` not yet consumed by ``group`` (or by every group starting with
        ``group_prefix``, summed); None when no such group has committed offsets on the topic."""
        try:
            groups = [group] if group else [
                g.group_id for g in self.client.list_consumer_groups(request_timeout=self.timeout).result().valid
                if g.group_id.startswith(group_prefix or "\0")]
            partitions = self.client.list_topics(topic=topic, timeout=self.timeout).topics[topic].partitions
            if not partitions:
                return None  # the topic is not on the cluster (yet): nothing can lag behind it
            latest = self.client.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in partitions},
                                              request_timeout=self.timeout)
            ends = {tp.partition: future.result().offset for tp, future in latest.items()}
            lag, seen = 0, False
            for group_id in groups:
                request = [ConsumerGroupTopicPartitions(group_id, [TopicPartition(topic, p) for p in partitions])]
                answer = self.client.list_consumer_group_offsets(request, request_timeout=self.timeout)
                for tp in answer[group_id].result().topic_partitions:
                    if tp.offset >= 0:
                        seen = True
                        lag += max(0, ends[tp.partition] - tp.offset)
            return lag if seen else None
        except KafkaException as exc:
            raise translate(exc, "consumer lag") from None

    # ------------------------------------------------------------------ readers of a topic (impact)
    def _end_offsets(self, topic: str, spec=None) -> dict[int, int]:
        """Per partition, the high watermark (or the offset ``spec`` names); {} when the topic is absent."""
        described = self.client.list_topics(topic=topic, timeout=self.timeout).topics.get(topic)
        partitions = described.partitions if described is not None and described.error is None else {}
        if not partitions:
            return {}
        futures = self.client.list_offsets({TopicPartition(topic, p): spec or OffsetSpec.latest() for p in partitions},
                                           request_timeout=self.timeout)
        return {tp.partition: future.result().offset for tp, future in futures.items()}

    def topic_consumer_groups(self, topic: str) -> list[dict]:
        """Consumer groups with committed offsets on ``topic``: ``{"group", "lag", "partitions"}`` each,
        lag summed over partitions against the high watermarks. One offsets request per group."""
        try:
            ends = self._end_offsets(topic)
            if not ends:
                return []
            listed = self.client.list_consumer_groups(request_timeout=self.timeout).result().valid
            readers = []
            for group_id in sorted(g.group_id for g in listed):
                request = [ConsumerGroupTopicPartitions(group_id, [TopicPartition(topic, p) for p in ends])]
                answer = self.client.list_consumer_group_offsets(request, request_timeout=self.timeout)
                committed = {tp.partition: tp.offset for tp in answer[group_id].result().topic_partitions
                             if tp.offset >= 0}
                if committed:
                    lag = sum(max(0, ends[p] - offset) for p, offset in committed.items())
                    readers.append({"group": group_id, "lag": lag, "partitions": len(committed)})
            return readers
        except KafkaException as exc:
            raise translate(exc, "consumer groups") from None

    def recent_message_count(self, topic: str, *, since_ms: int) -> int:
        """Messages appended to ``topic`` since the epoch-milliseconds ``since_ms``: per partition, the high
        watermark minus the first offset at or after that time (Kafka answers -1 when nothing is newer)."""
        try:
            ends = self._end_offsets(topic)
            if not ends:
                return 0
            starts = self._end_offsets(topic, OffsetSpec.for_timestamp(since_ms))
        except KafkaException as exc:
            raise translate(exc, "offsets for times") from None
        return sum(max(0, ends[p] - starts[p]) for p in ends if starts.get(p, -1) >= 0)

    def _outcomes(self, futures: dict, action: str, tolerate: str = "") -> dict[str, PlatformError | None]:
        """Wait for every future; an error the caller treats as success (already done) becomes None."""
        outcomes = {}
        for name, future in futures.items():
            try:
                future.result(self.timeout + 5)
                outcomes[name] = None
            except KafkaException as exc:
                error = translate(exc, action)
                outcomes[name] = None if error.code == tolerate else error
        return outcomes
