"""Change requests: operators read them here; decisions are taken in the portal or the API (four eyes)."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.common import ReadOnlyAdmin
from onboarding.models import ChangeRequest


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "cluster", "team", "status", "requested_by", "created_at", "expires_at",
                    "decided_by")
    list_filter = ("status", "cluster", "team")
    list_select_related = ("cluster", "team", "requested_by", "decided_by")
    search_fields = ("title", "decision_comment", "error")
    date_hierarchy = "created_at"
    readonly_fields = ("title", "cluster", "team", "status", "changes", "target_type", "target_id",
                       "base_generation", "plan", "impact", "requested_by", "requested_via", "created_at",
                       "expires_at", "refreshed_at", "decided_by", "decided_at", "decision_comment", "applied_at",
                       "error")
