from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """An append-only record of a change to desired state: who, when, through what, before and after."""

    class Via(models.TextChoices):
        BROWSER = "browser"
        API = "api"
        ADMIN = "admin"
        SYSTEM = "system"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, help_text="Kept when the user account is later removed.")
    via = models.CharField(max_length=10, choices=Via.choices)
    action = models.CharField(max_length=40)
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=40)
    resource_name = models.CharField(max_length=255)
    team = models.ForeignKey("onboarding.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["resource_type", "resource_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.resource_type} {self.resource_name}"
