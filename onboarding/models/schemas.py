from django.conf import settings
from django.db import models
from django.db.models import Q

from onboarding.choices import Compatibility, SchemaFormat
from onboarding.models.reconciled import Reconciled
from onboarding.models.topics import Topic


class Schema(Reconciled):
    """The schema of one side (key or value) of a topic: a registry subject, named by
    TopicNameStrategy (``<topic>-key`` / ``<topic>-value``), with its compatibility mode.

    Its versions are kept in order; the reconciler registers them and sets the mode.
    """

    class Side(models.TextChoices):
        KEY = "key", "Key"
        VALUE = "value", "Value"

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="schemas")
    side = models.CharField(max_length=5, choices=Side.choices, default=Side.VALUE)
    format = models.CharField(max_length=10, choices=SchemaFormat.choices, default=SchemaFormat.AVRO)
    compatibility = models.CharField(max_length=20, choices=Compatibility.choices, default=Compatibility.BACKWARD)

    class Meta:
        ordering = ["topic__name", "side"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "side"], condition=~Q(status="deleted"),
                                    name="schema_unique_live_side",
                                    violation_error_message="This side of the topic already has a schema."),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def subject(self) -> str:
        return f"{self.topic.name}-{self.side}"




class SchemaVersion(models.Model):
    """One accepted version of a schema: checked locally and by the registry before it was stored."""

    schema = models.ForeignKey(Schema, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text="Position in the portal's history (1, 2, ...).")
    text = models.TextField()
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical text, to find duplicates.")
    registry_id = models.PositiveIntegerField(null=True, blank=True)
    registry_version = models.PositiveIntegerField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    registered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["schema", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schema", "number"], name="schema_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.schema} v{self.number}"
