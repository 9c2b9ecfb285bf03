from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from onboarding.choices import SubscriptionMode
from onboarding.models.clusters import Cluster
from onboarding.models.reconciled import Reconciled
from onboarding.models.teams import Team
from onboarding.models.topics import Topic


class ServiceAccount(Reconciled):
    """A Kafka principal a team owns (SASL/SCRAM). The secret is shown once and never kept: until the
    reconciler has set the credential on the cluster it waits encrypted in ``pending_secret``."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="service_accounts")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="service_accounts")
    name = models.CharField(max_length=60, validators=[RegexValidator(
        r"^[a-z][a-z0-9-]*$", "Use lowercase letters, digits and '-', starting with a letter.")])
    username = models.CharField(max_length=120, editable=False, help_text="The SCRAM user name on the cluster.")
    description = models.TextField(blank=True)
    pending_secret = models.BinaryField(null=True, blank=True, editable=False)
    secret_set_at = models.DateTimeField(null=True, blank=True)
    # The SHA-256 of the password the reconciler last set on the cluster (a random 256-bit secret, so a fast digest
    # is enough, as for API tokens): the event gateway accepts the account's credentials by it (HTTP Basic,
    # through its grants table). The password itself is never kept.
    secret_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    can_consume_own_topics = models.BooleanField(
        "Can consume the team's own topics", default=True,
        help_text="READ on the team's own topics (prefix <team>.), e.g. the destinations of routed "
                  "subscriptions. Off for an account that only produces.")
    # Drift adopted by the team: ACLs found on the cluster that the portal now keeps ("accepted") and ACLs
    # of the standard set it no longer grants ("waived"), each a list of AclSpec dicts. Empty: the standard set.
    acl_exceptions = models.JSONField(default=dict, blank=True,
                                      help_text="ACL drift adopted as desired: {'accepted': [...], 'waived': [...]}.")
    # Kafka client quotas of the account's principal (entity user=<username>); empty: no quota, Kafka's default.
    producer_byte_rate = models.PositiveBigIntegerField(
        "Produce quota (bytes/s)", null=True, blank=True, validators=[MinValueValidator(1024)],
        help_text="Kafka throttles the account's producers above this rate. Empty: no quota.")
    consumer_byte_rate = models.PositiveBigIntegerField(
        "Consume quota (bytes/s)", null=True, blank=True, validators=[MinValueValidator(1024)],
        help_text="Kafka throttles the account's consumers above this rate. Empty: no quota.")
    request_percentage = models.PositiveIntegerField(
        "Request quota (% of a broker thread)", null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text="Share of broker request-handler and network thread time, 100 = one thread. Empty: no quota.")

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "username"], condition=~Q(status="deleted"),
                                    name="service_account_unique_live_username",
                                    violation_error_message="This team already has a service account with this "
                                                            "name on this cluster."),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def principal(self) -> str:
        return f"User:{self.username}"

    @property
    def quota(self) -> dict[str, int]:
        """The account's client quotas by Kafka's config key, only those set."""
        return {key: value for key, value in (("producer_byte_rate", self.producer_byte_rate),
                                              ("consumer_byte_rate", self.consumer_byte_rate),
                                              ("request_percentage", self.request_percentage)) if value is not None}


class Subscription(Reconciled):
    """Team B's access to team A's topic: direct READ access, or routed copies of matching events
    into B's own topic. Approval state is separate from apply status (``status``)."""

    Mode = SubscriptionMode

    class Decision(models.TextChoices):
        REQUESTED = "requested", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"

    subscriber = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="subscriptions")
    source = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="subscriptions")
    service_account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="subscriptions")
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.DIRECT)
    destination = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="routed_from")
    # A routed request that names a new destination creates it only when approved, so a rejected or
    # withdrawn request leaves no topic behind; until then the name waits here.
    destination_name = models.CharField(max_length=249, blank=True,
                                        help_text="The new destination topic to create when approved.")
    # The approved change request that already covered creating that topic (a gated cluster), so approval
    # creates it without asking a second time.
    destination_change_request = models.ForeignKey("onboarding.ChangeRequest", null=True, blank=True,
                                                   on_delete=models.SET_NULL, related_name="+")
    filter = models.TextField(blank=True, help_text="JMESPath over {value, headers, key}; empty routes everything.")
    reason = models.TextField()
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.source} ({self.mode})"

    @property
    def is_active(self) -> bool:
        return self.decision == self.Decision.APPROVED and not self.wants_deletion

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.destination.name}.dlq" if self.destination else ""
