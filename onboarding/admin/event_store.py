"""Event store bindings in the admin: read-only, with what the worker and the store report; operators stop keeping
a topic through the service, so it is audited and gated like the owning team's own request."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.access import RECONCILE_FIELDS
from onboarding.admin.common import VIA, ReconciledDisplay, run_per_object
from onboarding.models import EventStoreBinding
from onboarding.services.event_store import event_store_unbind


@admin.register(EventStoreBinding)
class EventStoreBindingAdmin(ReconciledDisplay, admin.ModelAdmin):
    list_display = ("__str__", "team", "mode", "retention_days", "connector_state", "status_badge", "created_at")
    list_filter = ("status", "mode", "connector_state", "topic__cluster")
    list_select_related = ("team", "topic__cluster")
    search_fields = ("topic__name", "team__slug")
    actions = ["unbind"]
    fieldsets = (
        (None, {"fields": ("topic", "team", "mode", "retention_days", "indexed_fields")}),
        ("Sink", {"fields": ("connector_state", "task_states", "runtime_error", "state_checked_at")}),
        ("Apply", {"fields": ("status_badge", *RECONCILE_FIELDS[1:], "drift", "observed")}),
    )
    readonly_fields = [name for _, spec in fieldsets for name in spec["fields"]]

    def has_add_permission(self, request):
        return False  # bound by the owning team (topic page, API, manifest), where the rules are explained

    def has_delete_permission(self, request, obj=None):
        return False  # the action below: the run removes the sink and the collection first, the record is kept

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only

    @admin.action(description="Stop keeping the selected topics (sink and documents removed)", permissions=["change"])
    def unbind(self, request, queryset):
        run_per_object(self, request, queryset, done="Unbinding {count} topic(s).",
                       call=lambda b: event_store_unbind(actor=request.user, binding=b, via=VIA))
