"""Connectors in the admin: read-only declarations with what the worker reports; operators delete, restart or
decide drift through the services, so the action is audited and gated like one from the portal. The classes a
cluster allows are set on the cluster (Kafka Connect)."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.access import RECONCILE_FIELDS
from onboarding.admin.common import VIA, ReconciledDisplay, run_per_object
from onboarding.models import Connector
from onboarding.services.connectors import (
    connector_delete,
    connector_drift_adopt,
    connector_drift_revert,
    connector_restart,
)


@admin.register(Connector)
class ConnectorAdmin(ReconciledDisplay, admin.ModelAdmin):
    list_display = ("__str__", "cluster", "connector_class", "desired_state", "connector_state", "status_badge",
                    "created_at")
    list_filter = ("status", "desired_state", "connector_state", "cluster")
    list_select_related = ("team", "cluster")
    search_fields = ("name", "team__slug", "connector_class", "description")
    actions = ["delete_connectors", "restart_connectors", "revert_drift", "adopt_drift"]
    fieldsets = (
        (None, {"fields": ("team", "name", "cluster", "description", "connector_class")}),
        ("Config", {"fields": ("config", "secret_refs", "desired_state")}),
        ("Worker", {"fields": ("connector_state", "task_states", "runtime_error", "state_checked_at")}),
        ("Apply", {"fields": ("status_badge", *RECONCILE_FIELDS[1:], "drift")}),
    )
    readonly_fields = [name for _, spec in fieldsets for name in spec["fields"]]

    def has_add_permission(self, request):
        return False  # declared by the owning team (portal or API), where Connect's errors are shown

    def has_delete_permission(self, request, obj=None):
        return False  # the action below: the worker must delete it first, the record is kept

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only

    @admin.action(description="Delete the selected connectors from the worker", permissions=["change"])
    def delete_connectors(self, request, queryset):
        run_per_object(self, request, queryset, done="Deleting {count} connector(s).",
                       call=lambda c: connector_delete(actor=request.user, connector=c, via=VIA))

    @admin.action(description="Restart the selected connectors and their tasks", permissions=["change"])
    def restart_connectors(self, request, queryset):
        run_per_object(self, request, queryset, done="Restarted {count} connector(s).",
                       call=lambda c: connector_restart(actor=request.user, connector=c, via=VIA))

    @admin.action(description="Drift: put the portal's config back", permissions=["change"])
    def revert_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Reverting {count} connector(s).",
                       call=lambda c: connector_drift_revert(actor=request.user, connector=c, via=VIA))

    @admin.action(description="Drift: take the worker's config", permissions=["change"])
    def adopt_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Adopted {count} connector(s).",
                       call=lambda c: connector_drift_adopt(actor=request.user, connector=c, via=VIA))
