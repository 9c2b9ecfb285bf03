from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from onboarding.models.teams import Team
from onboarding.policies import check_policy_definition

SECRET_REFERENCE = RegexValidator(
    r"^((env:[A-Za-z_][A-Za-z0-9_]*)|(file:/.+))?$",
    "Name where the secret lives, env:VARIABLE or file:/path; never the secret itself.",
)

DEFAULT_NAME_PATTERN = r"^{team}\.[a-z0-9][a-z0-9._-]*$"


class Cluster(models.Model):
    """A Kafka cluster with its Schema Registry, in one environment (dev, test, prod...)."""

    class SecurityProtocol(models.TextChoices):
        PLAINTEXT = "PLAINTEXT"
        SSL = "SSL"
        SASL_PLAINTEXT = "SASL_PLAINTEXT"
        SASL_SSL = "SASL_SSL"

    class DriftReaction(models.TextChoices):
        REVERT = "revert", "Revert to the desired state"
        REPORT = "report", "Report and wait for a decision"

    name = models.CharField(max_length=80, unique=True)
    environment = models.CharField(max_length=30, help_text="Environment label, for example dev, test or prod.")
    order = models.PositiveSmallIntegerField(default=0, help_text="Position in the promotion path (dev=0, test=1...).")
    bootstrap_servers = models.CharField(max_length=500, help_text="The portal's admin connection.")
    client_bootstrap_servers = models.CharField(
        "Client bootstrap servers", max_length=500, blank=True,
        help_text="The SASL listener that teams' applications connect to with their service accounts "
                  "(shown in the client settings). Empty: the admin address, when it is itself a SASL listener.")
    security_protocol = models.CharField(max_length=20, choices=SecurityProtocol.choices,
                                         default=SecurityProtocol.PLAINTEXT)
    sasl_mechanism = models.CharField(max_length=20, blank=True,
                                      choices=[(m, m) for m in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")])
    sasl_username_ref = models.CharField("SASL username from", max_length=300, blank=True,
                                         validators=[SECRET_REFERENCE])
    sasl_password_ref = models.CharField("SASL password from", max_length=300, blank=True,
                                         validators=[SECRET_REFERENCE])
    ssl_ca_location = models.CharField(max_length=300, blank=True)
    registry_url = models.URLField("Schema Registry URL", max_length=300, blank=True,
                                   help_text="Confluent-compatible REST base, e.g. http://host:8081")
    registry_username_ref = models.CharField(max_length=300, blank=True, validators=[SECRET_REFERENCE])
    registry_password_ref = models.CharField(max_length=300, blank=True, validators=[SECRET_REFERENCE])
    connect_url = models.URLField(
        "Kafka Connect URL", max_length=300, blank=True,
        help_text="REST base of the cluster's Connect worker, e.g. http://host:8083. Empty: the CONNECT_URL setting.")
    connect_allowed_classes = ArrayField(
        models.CharField(max_length=300), default=list, blank=True,
        help_text="Connector classes teams may run here, comma-separated "
                  "(e.g. com.mongodb.kafka.connect.MongoSinkConnector). Empty: none.")
    reconcile_interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5)],
        help_text="How often ready resources are compared with the cluster to find drift.")
    drift_reaction = models.CharField(max_length=10, choices=DriftReaction.choices, default=DriftReaction.REPORT)
    is_active = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"

    def clean(self):
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_mechanism and self.sasl_username_ref and self.sasl_password_ref
        ):
            raise ValidationError({"sasl_mechanism": "A SASL cluster needs a mechanism, a username and a password "
                                                     "reference."})


class TopicPolicy(models.Model):
    """What teams may ask for on one cluster: names, sizes and the config keys they may set.

    ``config_rules`` maps a config key to its rule: ``{"min": int, "max": int}`` for numbers or
    ``{"choices": [...]}`` for enumerations. Keys absent from it are refused.
    """

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="topic_policy")
    name_pattern = models.CharField(max_length=200, default=DEFAULT_NAME_PATTERN,
                                    help_text="Regular expression; {team} stands for the owning team's slug.")
    min_partitions = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    max_partitions = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1)])
    default_partitions = models.PositiveIntegerField(default=3, validators=[MinValueValidator(1)])
    allowed_replication_factors = ArrayField(models.PositiveSmallIntegerField(), default=list,
                                             help_text="Comma-separated, e.g. 3 or 1,3.")
    default_replication_factor = models.PositiveSmallIntegerField(default=1)
    config_rules = models.JSONField(default=dict, blank=True)
    default_configs = models.JSONField(default=dict, blank=True,
                                       help_text="Configs set on every new topic unless the team chooses otherwise.")
    default_compatibility = models.CharField(max_length=20, default="BACKWARD",
                                             help_text="Compatibility mode of new schemas on this cluster.")
    forbidden_compatibilities = ArrayField(models.CharField(max_length=20), default=list, blank=True,
                                           help_text="Modes teams may not choose here, e.g. NONE in production.")

    class Meta:
        verbose_name_plural = "topic policies"

    def __str__(self) -> str:
        return f"Topic policy of {self.cluster.name}"

    def clean(self):
        errors = check_policy_definition(self)
        if errors:
            raise ValidationError(errors)


class TeamQuota(models.Model):
    """How much of a cluster one team may hold: topics, partitions and disk. Operators set the cluster's default
    (no team) and overrides per team; the override wins field by field, an empty field means "the default's".

    Disk is counted as retention.bytes x partitions per topic; a topic without a byte limit (retention.bytes -1 or
    unset) counts with the cluster's largest allowed retention.bytes, or the default's ``unlimited_topic_bytes``
    when the policy has no maximum (see services/team_quotas.py).
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="team_quotas")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas",
                             help_text="Empty: the cluster's default for every team.")
    max_topics = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    max_partitions = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    max_disk_bytes = models.PositiveBigIntegerField(
        "Max disk (bytes)", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="retention.bytes x partitions, summed over the team's topics.")
    unlimited_topic_bytes = models.PositiveBigIntegerField(
        "Disk of a topic without retention.bytes (bytes per partition)", null=True, blank=True,
        validators=[MinValueValidator(1)],
        help_text="Counted per partition for a topic with unlimited retention.bytes when the cluster's topic "
                  "policy sets no maximum. Empty: 1 GiB.")

    class Meta:
        ordering = ["cluster__name", "team__slug"]
        constraints = [
            models.UniqueConstraint(fields=["cluster"], condition=Q(team__isnull=True),
                                    name="team_quota_one_default_per_cluster",
                                    violation_error_message="This cluster already has a default quota."),
            models.UniqueConstraint(fields=["cluster", "team"], name="team_quota_one_per_team",
                                    violation_error_message="This team already has a quota on this cluster."),
        ]

    def __str__(self) -> str:
        return f"Quota of {self.team.slug if self.team_id else 'every team'} on {self.cluster.name}"

    def clean(self):
        if self.team_id is not None and self.unlimited_topic_bytes is not None:
            raise ValidationError({"unlimited_topic_bytes": "Set this on the cluster's default quota."})
