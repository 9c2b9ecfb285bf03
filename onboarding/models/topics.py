from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from onboarding.models.clusters import Cluster
from onboarding.models.teams import Team


class ResourceStatus(models.TextChoices):
    """Where a resource stands between desired state (Postgres) and the real cluster."""

    PENDING = "pending", "Pending"
    APPLYING = "applying", "Applying"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    DRIFTED = "drifted", "Drifted"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"


class Topic(models.Model):
    """A Kafka topic as the owning team wants it; the reconciler makes the cluster match.

    ``generation`` grows with every change of desired state; ``observed_generation`` is the
    generation last applied successfully, so the two differ while work is outstanding.
    ``observed`` holds what the cluster reported at the last check, for the drift diff.
    """

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public: every team can find it and subscribe"
        PRIVATE = "private", "Private: visible to its team only"

    class DriftReaction(models.TextChoices):
        CLUSTER_DEFAULT = "", "Cluster default"
        REVERT = "revert", "Revert"
        REPORT = "report", "Report"

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="topics")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="topics")
    name = models.CharField(max_length=249)
    # Kafka treats '.' and '_' alike in metric names, so two topics may not differ only by them.
    collision_key = models.CharField(max_length=249, editable=False)
    partitions = models.PositiveIntegerField()
    replication_factor = models.PositiveSmallIntegerField()
    configs = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    drift_reaction = models.CharField(max_length=10, choices=DriftReaction.choices, blank=True, default="")

    status = models.CharField(max_length=10, choices=ResourceStatus.choices, default=ResourceStatus.PENDING,
                              db_index=True)
    generation = models.PositiveIntegerField(default=1)
    observed_generation = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    observed = models.JSONField(null=True, blank=True)
    drift = models.JSONField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Consecutive failed attempts, for the backoff.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delete_requested_at = models.DateTimeField(null=True, blank=True)
    # A reconcile run owns the row while claim_token is set; a stale claim (dead worker) expires.
    claim_token = models.CharField(max_length=40, blank=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_generation = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], condition=~Q(status="deleted"),
                                    name="topic_unique_live_name",
                                    violation_error_message="A topic with this name already exists on this cluster."),
            models.UniqueConstraint(fields=["cluster", "collision_key"], condition=~Q(status="deleted"),
                                    name="topic_unique_live_collision_key",
                                    violation_error_message="This name collides with an existing topic that "
                                                            "differs only by '.' or '_'."),
        ]
        indexes = [models.Index(fields=["cluster", "status"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.collision_key = self.name.replace(".", "_")
        super().save(*args, **kwargs)

    @property
    def is_live(self) -> bool:
        return self.status != ResourceStatus.DELETED

    @property
    def wants_deletion(self) -> bool:
        return self.delete_requested_at is not None

    @property
    def is_settling(self) -> bool:
        """True while the reconciler still has work to do, so the page keeps refreshing."""
        return self.status in (ResourceStatus.PENDING, ResourceStatus.APPLYING, ResourceStatus.DELETING)

    def effective_drift_reaction(self) -> str:
        return self.drift_reaction or self.cluster.drift_reaction
