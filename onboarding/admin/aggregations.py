"""Aggregations in the admin: read-only definitions with their engine status; operators delete or re-queue
through the services, so the action is audited and gated like one from the portal."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.access import RECONCILE_FIELDS
from onboarding.admin.common import VIA, ReconciledDisplay, run_per_object
from onboarding.models import Aggregation
from onboarding.services.aggregations import aggregation_delete


@admin.register(Aggregation)
class AggregationAdmin(ReconciledDisplay, admin.ModelAdmin):
    list_display = ("__str__", "source", "window_type", "output_topic", "version", "status_badge", "created_at")
    list_filter = ("status", "window_type", "emit", "late", "cluster")
    list_select_related = ("team", "source", "cluster")
    search_fields = ("name", "team__slug", "source__name", "output_topic", "description")
    actions = ["delete_aggregations"]
    fieldsets = (
        (None, {"fields": ("team", "name", "cluster", "description", "source", "output_topic")}),
        ("Definition", {"fields": ("filter", "group_by", "window_type", "size_ms", "advance_ms", "gap_ms",
                                   "grace_ms", "time_source", "time_field", "measures", "emit", "late",
                                   "start_from", "version", "output_schema_id")}),
        ("Apply", {"fields": ("status_badge", *RECONCILE_FIELDS[1:], "observed")}),
    )
    readonly_fields = [name for _, spec in fieldsets for name in spec["fields"]]

    def has_add_permission(self, request):
        return False  # defined by the owning team (portal, API or manifest), where the rules are explained

    def has_delete_permission(self, request, obj=None):
        return False  # the action below: the engine must stop it first, the record is kept

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only

    @admin.action(description="Delete the selected aggregations (the engine stops them)", permissions=["change"])
    def delete_aggregations(self, request, queryset):
        run_per_object(self, request, queryset, done="Deleting {count} aggregation(s).",
                       call=lambda agg: aggregation_delete(actor=request.user, aggregation=agg, via=VIA))
