"""Records the system writes: the audit trail and the apply attempts. Read-only for everyone."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.common import ReadOnlyAdmin
from onboarding.models import ApplyAttempt, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_name", "via", "action", "resource_type", "resource_name", "team", "request_id")
    list_filter = ("action", "via", "resource_type", "team", "at")
    list_select_related = ("team",)
    search_fields = ("resource_name", "actor_name", "=resource_id", "=request_id")
    date_hierarchy = "at"


@admin.register(ApplyAttempt)
class ApplyAttemptAdmin(ReadOnlyAdmin):
    list_display = ("topic", "schema", "generation", "outcome", "started_at", "duration_ms", "run_id")
    list_filter = ("outcome", "topic__cluster", ("schema", admin.EmptyFieldListFilter), "started_at")
    list_select_related = ("topic", "schema__topic")
    search_fields = ("topic__name", "run_id", "error")
    date_hierarchy = "started_at"
