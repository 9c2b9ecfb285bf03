"""Topic sizes on the brokers' disks (DescribeLogDirs), behind PlatformError.

confluent-kafka's AdminClient has no log-directory call, so this adapter asks through kafka-python's admin client
(kafka_python_admin.py). Each broker answers for the replicas it holds; a topic's size is the sum over its
partitions of the largest replica's size: the bytes of one copy of its data, what its producers wrote and
retention kept. Needs DESCRIBE on the cluster, which the portal's admin principal has.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import kafka.errors

from onboarding.platform.kafka_python_admin import KafkaPythonAdmin, error_of, failure
from portal.observability.tracing import traced_methods


@traced_methods("kafka.admin")
class KafkaLogDirs(KafkaPythonAdmin):
    client_id = "portal-log-dirs"
    purpose = "log directories"

    def topic_sizes(self, topics: Iterable[str]) -> dict[str, int]:
        """Bytes of one copy of each topic's data, by topic; topics no broker holds are left out."""
        names = sorted(set(topics))
        if not names:
            return {}
        try:
            answers = self._admin.describe_log_dirs(names)
        except kafka.errors.KafkaError as exc:
            raise failure(exc, "describe log dirs") from None
        return sizes_of(answers)


def sizes_of(answers: list[dict]) -> dict[str, int]:
    """Per topic, the sum over partitions of the largest replica (brokers' answers as kafka-python gives them).
    A log directory that reports an error (offline) is skipped: its replicas count as missing, not as empty."""
    largest: dict[tuple[str, int], int] = defaultdict(int)
    for answer in answers:
        for log_dir in answer["log_dirs"]:
            if error_of(log_dir["error_code"], None, "describe log dirs") is not None:
                continue
            for topic in log_dir["topics"]:
                for partition in topic["partitions"]:
                    key = (topic["name"], partition["partition_index"])
                    largest[key] = max(largest[key], partition["partition_size"])
    sizes: dict[str, int] = defaultdict(int)
    for (topic, _), size in largest.items():
        sizes[topic] += size
    return dict(sizes)
