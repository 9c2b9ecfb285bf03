from django.db import models

from onboarding.models.topics import Topic


class ApplyAttempt(models.Model):
    """One try at making the cluster match a topic's desired state (kept for the history)."""

    class Outcome(models.TextChoices):
        READY = "ready", "Applied"
        FAILED = "failed", "Failed, will retry"
        REFUSED = "refused", "Refused, needs a change"
        DRIFTED = "drifted", "Drift found"

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="attempts")
    # Set when the attempt applied the topic's schema (registry subject) rather than the topic itself.
    schema = models.ForeignKey("onboarding.Schema", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="attempts")
    generation = models.PositiveIntegerField()
    actions = models.JSONField(default=list, help_text="What was sent to the cluster.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    run_id = models.CharField(max_length=40, help_text="The reconcile run (one batch per cluster).")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["topic", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.topic} gen {self.generation}: {self.outcome}"
