"""Consumer groups: their lag sampled over time, and offset resets asked for by a group's team.

A group belongs to the team whose ``<team slug>.`` prefix its id carries (the prefix the team's service
accounts may use), so groups are not rows of their own: Kafka holds them, the portal keeps only what Kafka
forgets (lag history) and what people decide (reset requests).
"""

from django.conf import settings
from django.db import models

from onboarding.models.clusters import Cluster
from onboarding.models.teams import Team
from onboarding.models.topics import Topic


class LagSample(models.Model):
    """A group's lag on one topic (summed over its partitions) at one moment, written by the lag-sampling
    beat task and pruned after ``LAG_HISTORY_DAYS``."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    group_id = models.CharField(max_length=255)
    topic = models.CharField(max_length=249)
    sampled_at = models.DateTimeField()
    lag = models.BigIntegerField()

    class Meta:
        ordering = ["sampled_at"]
        indexes = [
            models.Index(fields=["cluster", "group_id", "sampled_at"], name="lag_sample_group"),
            models.Index(fields=["cluster", "topic", "sampled_at"], name="lag_sample_topic"),
            models.Index(fields=["sampled_at"], name="lag_sample_age"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id} on {self.topic}: {self.lag} at {self.sampled_at:%Y-%m-%d %H:%M}"


class OffsetReset(models.Model):
    """A request to move a group's committed offsets on one topic. Applied at once when the group's team owns
    the topic; a reset of another team's topic waits for one of that team's owners (they decide who rereads
    their data). ``plan`` is the per-partition plan of the last dry run or of the apply."""

    class Strategy(models.TextChoices):
        EARLIEST = "earliest", "Earliest"
        LATEST = "latest", "Latest"
        TIMESTAMP = "timestamp", "To a time"
        SHIFT = "shift", "Shift by N"
        OFFSET = "offset", "To an offset"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for the topic's owners"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="offset_resets")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="offset_resets")
    group_id = models.CharField(max_length=255)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="offset_resets")
    strategy = models.CharField(max_length=10, choices=Strategy.choices)
    timestamp = models.DateTimeField(null=True, blank=True)
    shift = models.BigIntegerField(null=True, blank=True)
    offset = models.BigIntegerField(null=True, blank=True)
    partitions = models.JSONField(default=list, blank=True, help_text="Partition numbers; empty means all.")
    reason = models.TextField(blank=True)
    plan = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["cluster", "group_id"], name="offset_reset_group")]

    def __str__(self) -> str:
        return f"Reset {self.group_id} on {self.topic.name} to {self.describe_target()}"

    def describe_target(self) -> str:
        if self.strategy == self.Strategy.TIMESTAMP and self.timestamp:
            return f"{self.timestamp:%Y-%m-%d %H:%M:%S} UTC"
        if self.strategy == self.Strategy.SHIFT:
            return f"a shift by {self.shift:+d}"
        if self.strategy == self.Strategy.OFFSET:
            return f"offset {self.offset}"
        return self.strategy
