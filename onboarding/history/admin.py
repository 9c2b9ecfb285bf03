"""History events in the admin: operators search and filter them; nobody adds, changes or deletes them."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.common import ReadOnlyAdmin
from onboarding.history.models import TRACKED_EVENT_MODELS
from onboarding.models import AuditEvent


class ContextValueFilter(admin.SimpleListFilter):
    """Filter on one key of the event's JSON context (via, username)."""

    key = ""

    def lookups(self, request, model_admin):
        values = (model_admin.get_queryset(request).exclude(**{f"pgh_context__{self.key}": None})
                  .values_list(f"pgh_context__{self.key}", flat=True).distinct().order_by()[:50])
        return [(value, value) for value in sorted(v for v in values if v)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"pgh_context__{self.key}": self.value()})
        return queryset


class ViaFilter(ContextValueFilter):
    title = parameter_name = "via"
    key = "via"

    def lookups(self, request, model_admin):
        return AuditEvent.Via.choices


class ActorFilter(ContextValueFilter):
    title, parameter_name = "actor", "actor"
    key = "username"


class EventAdmin(ReadOnlyAdmin):
    """Shared columns: when, which row, what happened, who, via, request, action."""

    list_display = ("pgh_created_at", "pgh_label", "pgh_obj_id", "actor", "via", "action", "request_id")
    list_filter = ("pgh_label", ViaFilter, ActorFilter, "pgh_created_at")
    search_fields = ("=id", "pgh_context__username", "=pgh_context__request_id", "pgh_context__action")
    date_hierarchy = "pgh_created_at"
    ordering = ("-pgh_created_at", "-pgh_id")

    @staticmethod
    def _context(obj, key):
        return (obj.pgh_context or {}).get(key) or ""

    @admin.display(description="actor")
    def actor(self, obj):
        return self._context(obj, "username") or ("system" if self._context(obj, "via") == "system" else "")

    @admin.display(description="via")
    def via(self, obj):
        return self._context(obj, "via")

    @admin.display(description="action")
    def action(self, obj):
        return self._context(obj, "action")

    @admin.display(description="request id")
    def request_id(self, obj):
        return self._context(obj, "request_id")


def _admin_for(event_model):
    fields = {f.name for f in event_model._meta.fields}
    team_filters = tuple(name for name in ("team", "subscriber", "cluster") if name in fields)
    return type(f"{event_model.__name__}Admin", (EventAdmin,), {
        "list_filter": (*EventAdmin.list_filter[:-1], *team_filters, "pgh_created_at"),
        "search_fields": (*EventAdmin.search_fields, *(f"{n}__slug" for n in team_filters if n != "cluster")),
    })


for _model in TRACKED_EVENT_MODELS:
    admin.site.register(_model, _admin_for(_model))
