from django.conf import settings
from django.db import models

from onboarding.models.schemas import Schema


class SensitiveField(models.Model):
    """A field of a schema tagged by its team as sensitive: masked wherever the portal shows events.

    ``path`` follows ``onboarding.schemas.field_paths`` (``patient.ssn``, ``visits[].code``) and must exist
    in the schema's latest version when it is tagged.
    """

    class Classification(models.TextChoices):
        PHI = "phi", "PHI (protected health information)"
        PII = "pii", "PII (personal data)"
        SECRET = "secret", "Secret (credentials, keys)"
        CONFIDENTIAL = "confidential", "Confidential (business)"

    schema = models.ForeignKey(Schema, on_delete=models.CASCADE, related_name="sensitive_fields")
    path = models.CharField(max_length=500)
    classification = models.CharField(max_length=20, choices=Classification.choices)
    note = models.TextField(blank=True)
    tagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    tagged_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["schema", "path"]
        constraints = [
            models.UniqueConstraint(fields=["schema", "path"], name="sensitive_field_unique_path",
                                    violation_error_message="This field is already tagged."),
        ]

    def __str__(self) -> str:
        return f"{self.schema.subject}:{self.path}"
