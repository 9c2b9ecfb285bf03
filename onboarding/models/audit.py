import pgtrigger
from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """An append-only record of a change to desired state: who, when, through what, before and after.

    This is the services' semantic log (action names, notes); the row-level history of every write
    path lives in onboarding/history. ``context_id`` and ``request_id`` tie a record to the row events
    of the same request or task. Database triggers refuse UPDATE, DELETE and TRUNCATE, so foreign keys
    into this table never cascade: a removed user or team leaves its records (and ``actor_name``) intact.
    """

    class Via(models.TextChoices):
        BROWSER = "browser"
        API = "api"
        ADMIN = "admin"
        SYSTEM = "system"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    actor_name = models.CharField(max_length=150, help_text="Kept when the user account is later removed.")
    via = models.CharField(max_length=10, choices=Via.choices)
    action = models.CharField(max_length=40)
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=40)
    resource_name = models.CharField(max_length=255)
    team = models.ForeignKey("onboarding.Team", null=True, blank=True, on_delete=models.DO_NOTHING,
                             db_constraint=False, related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    context_id = models.UUIDField(null=True, blank=True, help_text="The row-history context of the same change.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["resource_type", "resource_id"])]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Trigger(
                name="append_only_truncate", operation=pgtrigger.Truncate, level=pgtrigger.Statement,
                when=pgtrigger.Before,
                func="RAISE EXCEPTION 'pgtrigger: Cannot truncate % table: it is append-only', TG_TABLE_NAME;"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.resource_type} {self.resource_name}"
