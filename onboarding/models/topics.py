from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from onboarding.choices import TopicVisibility
from onboarding.models.clusters import Cluster
from onboarding.models.reconciled import Reconciled, ResourceStatus
from onboarding.models.teams import Team


class Topic(Reconciled):
    """A Kafka topic as the owning team wants it; the topic reconciler makes the cluster match."""

    Visibility = TopicVisibility

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
    subscriptions_need_approval = models.BooleanField(
        default=False, help_text="Public topics: owners approve every subscription (private topics always do).")

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

    @cached_property
    def managed_by(self):
        """The live aggregation whose results this topic holds (``Aggregation.output``), or None: while it lives,
        the topic is changed through it."""
        if self.pk is None:
            return None
        return (self.produced_by.exclude(status=ResourceStatus.DELETED).select_related("team")
                .order_by("-pk").first())



    def effective_drift_reaction(self) -> str:
        return self.drift_reaction or self.cluster.drift_reaction
