"""Value lists the whole portal shares, each defined once.

Models use them as field choices; the schema checks, the cluster policy rules, the GitOps manifest's
JSON Schema and the services read the same lists, so a new mode or format is added in one place.
Migrations store the values themselves, so moving a list here changes no migration.
"""

from django.db import models


class ResourceStatus(models.TextChoices):
    """Where a resource stands between desired state (Postgres) and the real system."""

    PENDING = "pending", "Pending"
    APPLYING = "applying", "Applying"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    DRIFTED = "drifted", "Drifted"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"


class Compatibility(models.TextChoices):
    """Schema Registry compatibility modes (Confluent contract)."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"


class SchemaFormat(models.TextChoices):
    """Schema formats, as the registry names them (``schemaType``)."""

    AVRO = "AVRO", "Avro"
    JSON = "JSON", "JSON Schema"
    PROTOBUF = "PROTOBUF", "Protobuf"


class TopicVisibility(models.TextChoices):
    PUBLIC = "public", "Public: every team can find it and subscribe"
    PRIVATE = "private", "Private: visible to its team only"


class SubscriptionMode(models.TextChoices):
    DIRECT = "direct", "Direct read access"
    ROUTED = "routed", "Routed copies into our topic"


COMPATIBILITY_MODES: tuple[str, ...] = tuple(Compatibility.values)
SCHEMA_FORMATS: tuple[str, ...] = tuple(SchemaFormat.values)


class WindowType(models.TextChoices):
    """Aggregation windows (docs/aggregations.md): which of size, advance and gap each one uses."""

    TUMBLING = "tumbling", "Tumbling (fixed, non-overlapping)"
    HOPPING = "hopping", "Hopping (fixed size, overlapping by advance)"
    SLIDING = "sliding", "Sliding (events within size of each other)"
    SESSION = "session", "Session (closed after a gap without events)"


class TimeSource(models.TextChoices):
    RECORD = "record", "The Kafka record timestamp"
    FIELD = "field", "A field of the event"


class MeasureOp(models.TextChoices):
    COUNT = "count", "Count"
    SUM = "sum", "Sum"
    MIN = "min", "Minimum"
    MAX = "max", "Maximum"
    AVG = "avg", "Average"
    COUNT_DISTINCT = "count_distinct", "Count distinct"
    FIRST = "first", "First"
    LAST = "last", "Last"


class EmitMode(models.TextChoices):
    ON_UPDATE = "on_update", "On every update"
    ON_CLOSE = "on_close", "Once, when the window closes"


class LateHandling(models.TextChoices):
    DROP = "drop", "Drop (counted)"
    DEAD_LETTER = "dead_letter", "Send to the dead-letter topic"


class StartFrom(models.TextChoices):
    EARLIEST = "earliest", "Earliest: reprocess the source's retained history"
    LATEST = "latest", "Latest: only new events"


MEASURE_OPS: tuple[str, ...] = tuple(MeasureOp.values)
