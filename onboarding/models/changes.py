from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models

from onboarding.models.clusters import Cluster
from onboarding.models.teams import Team

# Operations a cluster's policy may put behind an approval (services/changes.py gates them).
GATED_OPERATIONS = (
    "topic.create", "topic.update", "topic.delete", "schema.submit", "schema.compatibility",
    "service_account.create", "service_account.delete", "service_account.quota", "subscription.request",
    "aggregation.create", "aggregation.update", "aggregation.delete",
    "connector.create", "connector.update", "connector.delete", "connector.offsets",
    "mapping.create", "mapping.update", "mapping.delete",
    "event_store.bind", "event_store.update", "event_store.unbind",
    "group.reset", "topic.delete_records",
)


class ChangePolicy(models.Model):
    """Which operations on a cluster wait for a second person's approval, and who may give it.

    No operation is listed by default: a cluster without a policy behaves as before (changes apply at once).
    """

    class Approvers(models.TextChoices):
        OWNERS_OR_OPERATORS = "owners_or_operators", "Another owner of the team, or a platform operator"
        OPERATORS = "operators", "Platform operators only"

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="change_policy")
    operations_needing_approval = ArrayField(
        models.CharField(max_length=40, choices=[(op, op) for op in GATED_OPERATIONS]), default=list, blank=True,
        help_text="Comma-separated operation names, e.g. topic.delete,schema.compatibility.")
    approvers = models.CharField(max_length=30, choices=Approvers.choices, default=Approvers.OWNERS_OR_OPERATORS)
    request_ttl_hours = models.PositiveIntegerField(default=72, validators=[MinValueValidator(1)],
                                                    help_text="A request not decided within this time expires.")

    class Meta:
        verbose_name_plural = "change policies"

    def __str__(self) -> str:
        return f"Change policy of {self.cluster.name}"

    def clean(self):
        from django.core.exceptions import ValidationError

        unknown = sorted(set(self.operations_needing_approval or []) - set(GATED_OPERATIONS))
        if unknown:
            raise ValidationError({"operations_needing_approval": f"Unknown operations: {', '.join(unknown)}. "
                                                                  f"Choose among {', '.join(GATED_OPERATIONS)}."})


class ChangeRequest(models.Model):
    """One or more operations waiting for a second person: what will run (``plan``), what it touches
    (``impact``), and the decision.

    ``changes`` is a list of ``{"operation": ..., "payload": {...}}`` (JSON, ids for objects); applying
    runs each through its service in one transaction. ``base_generation`` is the target's generation
    when the plan was computed: approval is refused once the target moved on (refresh first).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPLIED = "applied", "Approved and applied"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Approved, but applying failed"
        # Its own outcome, not a rejection: nobody decided against the change, the requester took it back.
        WITHDRAWN = "withdrawn", "Withdrawn by the requester"

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="change_requests")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="change_requests")
    title = models.CharField(max_length=300)
    changes = models.JSONField(default=list)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    base_generation = models.PositiveIntegerField(null=True, blank=True)
    plan = models.JSONField(default=dict, blank=True)
    impact = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_via = models.CharField(max_length=10)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Change request #{self.pk}: {self.title}"

    @property
    def operations(self) -> list[str]:
        return [change["operation"] for change in self.changes]

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
