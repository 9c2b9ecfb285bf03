from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from onboarding.models.clusters import Cluster
from onboarding.models.reconciled import Reconciled
from onboarding.models.teams import Team


class Connector(Reconciled):
    """A team's Kafka Connect connector on its cluster's Connect worker, named ``<team slug>.<name>`` there.

    ``config`` never holds a secret: keys listed in ``secret_refs`` get, when the reconciler writes the config,
    a config-provider placeholder (``${env:NAME}`` or ``${file:/path:key}``) that the worker resolves itself,
    so the secret's value lives only where the worker runs."""

    class DesiredState(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="connectors")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="connectors")
    name = models.CharField(max_length=100, validators=[RegexValidator(
        r"^[a-z][a-z0-9-]*$", "Use lowercase letters, digits and '-', starting with a letter.")])
    description = models.TextField(blank=True)
    connector_class = models.CharField(max_length=300)
    config = models.JSONField(default=dict, blank=True,
                              help_text="Connector config without connector.class, name or secrets.")
    secret_refs = models.JSONField(default=dict, blank=True,
                                   help_text='Config key -> where the worker finds the secret: "env:NAME" or '
                                             '"file:/path:key".')
    desired_state = models.CharField(max_length=10, choices=DesiredState.choices, default=DesiredState.RUNNING)
    # What the worker last reported (status endpoint), refreshed by every run and the sweep.
    connector_state = models.CharField(max_length=20, blank=True)
    task_states = models.JSONField(default=list, blank=True)
    runtime_error = models.TextField(blank=True, help_text="The last trace the worker reported.")
    state_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "team", "name"], condition=~Q(status="deleted"),
                                    name="connector_unique_live_name",
                                    violation_error_message="This team already has a connector with this name "
                                                            "on this cluster."),
        ]
        indexes = [models.Index(fields=["cluster", "status"])]

    def __str__(self) -> str:
        return self.connector_name

    @property
    def connector_name(self) -> str:
        """The worker's name of the connector: ``<team slug>.<name>``."""
        return f"{self.team.slug}.{self.name}"

    @property
    def is_live(self) -> bool:
        return self.status != "deleted"
