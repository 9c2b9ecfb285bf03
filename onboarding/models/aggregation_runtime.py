from django.db import models

from onboarding.models.aggregations import Aggregation


class AggregationRuntime(models.Model):
    """What the engine last reported for an aggregation (its status table, docs/aggregations.md), kept apart
    from the definition so the status task's frequent writes touch neither its history nor its generation.

    The counters are summed over the live instances running the current version."""

    aggregation = models.OneToOneField(Aggregation, on_delete=models.CASCADE, related_name="runtime")
    state = models.CharField(max_length=20, blank=True, help_text="ready, failed, drifted or waiting.")
    running_version = models.PositiveIntegerField(null=True, blank=True)
    instances = models.JSONField(default=list, help_text="The live instances' rows: instance, version, state, error.")
    records_in = models.BigIntegerField(default=0)
    windows_emitted = models.BigIntegerField(default=0)
    late_dropped = models.BigIntegerField(default=0)
    late_dead_lettered = models.BigIntegerField(default=0)
    lag = models.BigIntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True, help_text="The newest row's updated_ms.")
    # Since when no live instance runs the current version: drifted once this is older than the grace.
    behind_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"runtime of aggregation {self.aggregation_id}"

    @property
    def late(self) -> int:
        return self.late_dropped + self.late_dead_lettered
