"""Consumer-group records: offset resets (decided by the topics' owners, through the portal or the API) and the
sampled lag. Read-only: a reset is a decision of people, the samples are the beat's."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.common import ReadOnlyAdmin
from onboarding.models import LagSample, OffsetReset


@admin.register(OffsetReset)
class OffsetResetAdmin(ReadOnlyAdmin):
    list_display = ("requested_at", "cluster", "group_id", "topic", "strategy", "status", "requested_by",
                    "decided_by", "applied_at")
    list_filter = ("status", "strategy", "cluster", "team")
    list_select_related = ("cluster", "topic", "team", "requested_by", "decided_by")
    search_fields = ("group_id", "topic__name", "reason", "error")
    date_hierarchy = "requested_at"


@admin.register(LagSample)
class LagSampleAdmin(ReadOnlyAdmin):
    list_display = ("sampled_at", "cluster", "group_id", "topic", "lag")
    list_filter = ("cluster",)
    list_select_related = ("cluster",)
    search_fields = ("group_id", "topic")
    date_hierarchy = "sampled_at"
