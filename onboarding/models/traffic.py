"""Produce traffic of topics over time: the broker's end offsets sampled periodically.

Kafka answers only "the next offset now", so the portal keeps the history: the sum of a topic's end offsets
at each sample. The difference between two samples is the events produced in between (records, not bytes:
the admin client this portal uses has no DescribeLogDirs, so sizes are left out). Rows are keyed by the
topic's name, as LagSample's are, so dead-letter topics no one registered are sampled too.
"""

from django.db import models

from onboarding.models.clusters import Cluster


class TopicTrafficSample(models.Model):
    """A topic's end offsets summed over its partitions, and its size on the brokers, at one moment; written by
    the traffic-sampling beat task and pruned after ``TRAFFIC_HISTORY_DAYS``."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=249)
    sampled_at = models.DateTimeField()
    end_offset = models.BigIntegerField(help_text="Sum of the partitions' end offsets: events ever produced.")
    size_bytes = models.BigIntegerField(null=True, blank=True,
                                        help_text="Bytes of one copy of the topic's data on the brokers; empty when "
                                                  "the brokers' log directories could not be read.")

    class Meta:
        ordering = ["sampled_at"]
        indexes = [
            models.Index(fields=["cluster", "topic", "sampled_at"], name="traffic_sample_topic"),
            models.Index(fields=["sampled_at"], name="traffic_sample_age"),
        ]

    def __str__(self) -> str:
        return f"{self.topic}: {self.end_offset} at {self.sampled_at:%Y-%m-%d %H:%M}"
