from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from onboarding.choices import EmitMode, LateHandling, StartFrom, TimeSource, WindowType
from onboarding.models.clusters import Cluster
from onboarding.models.reconciled import Reconciled
from onboarding.models.teams import Team
from onboarding.models.topics import Topic

# The fields whose change shapes results (docs/aggregations.md): a change of any of them is a new version,
# so the engine starts a new Kafka Streams application with fresh state.
RESULT_SHAPING_FIELDS = (
    "source_id", "filter", "group_by", "window_type", "size_ms", "advance_ms", "gap_ms", "grace_ms",
    "time_source", "time_field", "measures", "emit", "late",
)


class Aggregation(Reconciled):
    """A team's windowed aggregation of one topic's events into its own output topic; the aggregation
    reconciler writes it to the engine's definitions table. ``version`` grows with every change of a
    result-shaping field (``RESULT_SHAPING_FIELDS``); ``generation`` with every change at all."""

    WindowType = WindowType
    TimeSource = TimeSource
    Emit = EmitMode
    Late = LateHandling
    StartFrom = StartFrom

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="aggregations",
                                help_text="The source topic's cluster, where the engine runs it.")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="aggregations")
    name = models.CharField(max_length=100, validators=[RegexValidator(
        r"^[a-z][a-z0-9-]*$", "Use lowercase letters, digits and '-', starting with a letter.")])
    description = models.TextField(blank=True)
    source = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="aggregations")
    filter = models.TextField(blank=True, help_text="JMESPath over {value, key, headers}; empty keeps every event.")
    group_by = models.TextField(blank=True, help_text="JMESPath giving the group key; empty groups by the record key.")
    window_type = models.CharField(max_length=10, choices=WindowType.choices, default=WindowType.TUMBLING)
    size_ms = models.BigIntegerField(null=True, blank=True)
    advance_ms = models.BigIntegerField(null=True, blank=True)
    gap_ms = models.BigIntegerField(null=True, blank=True)
    grace_ms = models.BigIntegerField(default=0)
    time_source = models.CharField(max_length=10, choices=TimeSource.choices, default=TimeSource.RECORD)
    time_field = models.TextField(blank=True, help_text="JMESPath to epoch milliseconds or an RFC 3339 string.")
    measures = models.JSONField(default=list, help_text='[{"name": ..., "op": ..., "field": ...}, ...]')
    emit = models.CharField(max_length=10, choices=EmitMode.choices, default=EmitMode.ON_UPDATE)
    late = models.CharField(max_length=12, choices=LateHandling.choices, default=LateHandling.DROP)
    output_topic = models.CharField(max_length=249, help_text="The team's topic the results are written to.")
    # The portal topic of ``output_topic``, created with the definition and managed by it while it lives (its
    # edits and deletion are refused); deleting the definition releases it to the team with its results. Null
    # for definitions saved before outputs were portal topics (the aggregation run creates those on Kafka).
    output = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="produced_by",
                               help_text="The portal topic the results are written to.")
    start_from = models.CharField(max_length=10, choices=StartFrom.choices, default=StartFrom.EARLIEST)
    version = models.PositiveIntegerField(default=1, help_text="Grows with every change that shapes results.")
    output_schema_id = models.PositiveIntegerField(null=True, blank=True,
                                                   help_text="The registry id of the output value's schema.")

    class Meta:
        ordering = ["team__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "team", "name"], condition=~Q(status="deleted"),
                                    name="aggregation_unique_live_name",
                                    violation_error_message="This team already has an aggregation with this "
                                                            "name on this cluster."),
            models.UniqueConstraint(fields=["cluster", "output_topic"], condition=~Q(status="deleted"),
                                    name="aggregation_unique_live_output_topic",
                                    violation_error_message="Another aggregation already writes to this topic."),
        ]
        indexes = [models.Index(fields=["cluster", "status"])]

    def __str__(self) -> str:
        return self.definition_id

    @property
    def definition_id(self) -> str:
        """The engine's key for this definition: ``<team slug>.<name>``."""
        return f"{self.team.slug}.{self.name}"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.output_topic}.late"

    @property
    def is_live(self) -> bool:
        return self.status != "deleted"


def managing_aggregation(topic: Topic) -> Aggregation | None:
    """The live aggregation whose results ``topic`` holds: while it exists, the topic is changed only through it."""
    if topic.pk is None:
        return None
    # Read afresh, not from the topic's cached property: the services decide on the committed state.
    return (Aggregation.objects.filter(output=topic).exclude(status="deleted").select_related("team")
            .order_by("-pk").first())
