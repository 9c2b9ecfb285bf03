import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from onboarding.models.reconciled import Reconciled
from onboarding.models.teams import Team
from onboarding.models.topics import Topic

# A field of the event value, in MongoDB's dotted path form (customer.id); no '$' (operators) and no leading
# '_' at the top (the document's own fields _id, _ts... are indexed by the portal itself).
FIELD_PATH = RegexValidator(r"^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$",
                            "A field path like customer.id: letters, digits, '_' and '-', parts joined by '.'.")

# The prefix of the top-level copies of indexed fields (EventStoreBinding.copy_name); the sink's EventDocument
# transformation (aggregator module) writes the same names.
COPY_PREFIX = "_i:"


class EventStoreBinding(Reconciled):
    """A topic kept in the event store: a portal-managed MongoDB sink connector writes its events as documents
    into one collection, with the indexes named here and a TTL index for the retention.

    ``log`` keeps every record (document id ``<topic>#<partition>#<offset>``, so replays after a restart
    replace their own document); ``table`` keeps the last value per record key (a tombstone deletes it).
    One live binding per topic; only the topic's owning team binds it."""

    class Mode(models.TextChoices):
        LOG = "log", "Log: every event"
        TABLE = "table", "Table: the last event per key"

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="event_store_bindings")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="event_store_bindings")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.LOG)
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text="Documents older than this (by event time) are removed. Empty: kept for ever.")
    indexed_fields = ArrayField(models.CharField(max_length=200, validators=[FIELD_PATH]), default=list,
                                blank=True, size=16, help_text="Value fields queries filter or sort on.")
    # What the worker last reported for the binding's connector, refreshed by every run and the sweep.
    connector_state = models.CharField(max_length=20, blank=True)
    task_states = models.JSONField(default=list, blank=True)
    runtime_error = models.TextField(blank=True)
    state_checked_at = models.DateTimeField(null=True, blank=True)
    # The copies of indexed fields in documents stored before the field was indexed (reconcile.event_store_backfill):
    # {"fields", "state" (queued, running, done, failed), "updated", "passes", "started_at", "heartbeat_at",
    # "finished_at", "error"}. An observation the backfill task writes, not desired state.
    backfill = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["topic__name"]
        constraints = [
            models.UniqueConstraint(fields=["topic"], condition=~Q(status="deleted"),
                                    name="event_store_binding_one_live_per_topic",
                                    violation_error_message="This topic is already kept in the event store."),
        ]

    def __str__(self) -> str:
        return f"{self.topic.name} ({self.mode})"

    @property
    def connector_name(self) -> str:
        """The worker's name of the binding's sink: a prefix no team connector can have (theirs are
        ``<team slug>.<name>``, and slugs cannot start with '_')."""
        return f"_event-store.{self.topic.name}"

    @property
    def database_name(self) -> str:
        """One database per cluster (a topic name may exist on two clusters); MongoDB database names allow
        no '.', '/', '$' or spaces, so the cluster's name is reduced to letters, digits, '_' and '-'."""
        return f"{settings.EVENT_STORE_DATABASE}_{re.sub(r'[^A-Za-z0-9_-]', '_', self.topic.cluster.name)}"[:63]

    @property
    def collection_name(self) -> str:
        return self.topic.name

    @staticmethod
    def store_uri() -> str:
        return settings.EVENT_STORE_URI

    @staticmethod
    def document_path(field: str) -> str:
        """Where a value field lives in the stored document."""
        return f"value.{field}"

    @staticmethod
    def copy_name(path: str) -> str:
        """The top-level field of a document that holds a copy of the document path ``path`` (``value.ward`` is
        ``_i:value:ward``), written by the sink's EventDocument transformation for every indexed field: a store
        that answers only top-level conditions from its indexes (FerretDB 1.x) then uses the index. No field of
        the document starts with ``_i:`` and a field path has no ':', so two paths never share a copy."""
        return COPY_PREFIX + path.replace(".", ":")

    @property
    def indexed_paths(self) -> list[str]:
        """The indexed fields as document paths (``value.ward``), in the binding's order."""
        return [self.document_path(field) for field in self.indexed_fields]

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.topic.name}.dlq"

    @property
    def is_live(self) -> bool:
        return self.status != "deleted"
