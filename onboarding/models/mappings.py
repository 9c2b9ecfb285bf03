"""Normalization mappings and what they use: canonical topics, code tables, mappings and their versions.

A canonical topic is a platform-owned standard (``std.patient``): an ordinary topic of the data-governance team,
marked canonical so every change of its schema needs a second person (four-eyes). A mapping turns one source
topic's schema version into one canonical schema version with a list of field rules stored as data (the rule
format of ``onboarding.mapping.rules``); every save is a new MappingVersion, checked and compiled before it is
stored, and the mapper runs the mapping's ``current_version``.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from onboarding.models.clusters import Cluster
from onboarding.models.reconciled import Reconciled
from onboarding.models.schemas import SchemaVersion
from onboarding.models.teams import Team
from onboarding.models.topics import Topic

_NAME = RegexValidator(r"^[a-z][a-z0-9-]*$", "Use lowercase letters, digits and '-', starting with a letter.")


class CanonicalTopic(models.Model):
    """Marks a topic as a canonical schema (a standard others map into). Its owners are the topic's team, the
    data-governance team; its schema changes always wait for an approval by someone other than their author."""

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, primary_key=True, related_name="canonical")
    description = models.TextField(blank=True, help_text="What the standard describes, for the catalogue.")
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["topic__name"]

    def __str__(self) -> str:
        return f"canonical {self.topic_id}"


class CodeTable(models.Model):
    """A team's named table of codes (local gender codes -> HL7 administrative gender); its content lives in
    versions, so a mapping version keeps the table version it was checked with."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="code_tables")
    name = models.CharField(max_length=100, validators=[_NAME])
    description = models.TextField(blank=True)
    generation = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], condition=Q(deleted_at__isnull=True),
                                    name="code_table_unique_live_name",
                                    violation_error_message="This team already has a code table with this name."),
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}.{self.name}"

    @cached_property
    def latest(self) -> "CodeTableVersion | None":
        return self.versions.order_by("-number").first()

    @property
    def latest_default(self):
        latest = self.latest
        return latest.default if latest is not None and latest.has_default else None


class CodeTableVersion(models.Model):
    """One content of a code table: ``entries`` maps each code (a string) to its value; ``default`` (when
    ``has_default``) answers codes the table lacks."""

    table = models.ForeignKey(CodeTable, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    entries = models.JSONField(default=dict)
    has_default = models.BooleanField(default=False)
    default = models.JSONField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["table", "number"]
        constraints = [models.UniqueConstraint(fields=["table", "number"], name="code_table_version_unique")]

    def __str__(self) -> str:
        return f"{self.table} v{self.number}"

    def as_library_table(self) -> dict:
        """The form ``onboarding.mapping`` reads: code -> value (the default is a rule's argument there)."""
        return dict(self.entries)


class Mapping(Reconciled):
    """A team's normalization of its source topic into a canonical topic on the same cluster; the mapper
    reads ``current_version`` from the table a reconciler writes (``services/mapping_table.py``)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="mappings")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="mappings")
    name = models.CharField(max_length=100, validators=[_NAME])
    description = models.TextField(blank=True)
    source_topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="mappings_from")
    canonical_topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="mappings_into")
    current_version = models.ForeignKey("MappingVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    promoted_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                      help_text="The mapping on another cluster this one was promoted from.")

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "team", "name"], condition=~Q(status="deleted"),
                                    name="mapping_unique_live_name",
                                    violation_error_message="This team already has a mapping with this name on "
                                                            "this cluster."),
        ]
        indexes = [models.Index(fields=["cluster", "status"])]

    def __str__(self) -> str:
        return self.mapping_id

    @property
    def mapping_id(self) -> str:
        """The mapper's key: ``<team slug>.<name>``."""
        return f"{self.team.slug}.{self.name}"

    @property
    def dlq_topic(self) -> str:
        return f"{self.canonical_topic.name}.dlq"

    @property
    def is_live(self) -> bool:
        return self.status != "deleted"


class MappingVersion(models.Model):
    """One saved rule list of a mapping, from a source schema version to a canonical schema version; it passed
    the checks (both schemas, required coverage, compile) before it was stored and is never edited."""

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    source_schema_version = models.ForeignKey(SchemaVersion, on_delete=models.PROTECT, related_name="+")
    canonical_schema_version = models.ForeignKey(SchemaVersion, on_delete=models.PROTECT, related_name="+")
    rules = models.JSONField(default=list, help_text="The rule list (onboarding.mapping.rules JSON form).")
    code_tables = models.ManyToManyField(CodeTableVersion, blank=True, related_name="mapping_versions")
    coverage = models.JSONField(default=dict, blank=True, help_text="Required canonical fields covered/missing.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mapping", "number"]
        constraints = [models.UniqueConstraint(fields=["mapping", "number"], name="mapping_version_unique")]

    def __str__(self) -> str:
        return f"{self.mapping} v{self.number}"
