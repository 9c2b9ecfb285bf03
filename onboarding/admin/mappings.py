"""Mappings, code tables and canonical topics in the admin: read-only rows (a mapping version is only made by the
checked save, in the portal, the API or GitOps); operators delete mappings and mark or unmark canonical topics
through the services, so the action is audited and gated like one from the portal."""

from __future__ import annotations

from django.contrib import admin

from onboarding.admin.access import RECONCILE_FIELDS
from onboarding.admin.common import VIA, ReconciledDisplay, run_per_object
from onboarding.models import CanonicalTopic, CodeTable, CodeTableVersion, Mapping, MappingVersion
from onboarding.services.mappings import canonical_topic_unmark, mapping_delete


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only


class MappingVersionInline(_ReadOnly, admin.TabularInline):
    model = MappingVersion
    fields = ("number", "source_schema_version", "canonical_schema_version", "rules", "coverage", "author", "note",
              "created_at")
    readonly_fields = fields
    extra = 0
    ordering = ("-number",)


@admin.register(Mapping)
class MappingAdmin(_ReadOnly, ReconciledDisplay, admin.ModelAdmin):
    list_display = ("__str__", "cluster", "source_topic", "canonical_topic", "current_version", "status_badge",
                    "created_at")
    list_filter = ("status", "cluster")
    list_select_related = ("team", "cluster", "source_topic", "canonical_topic", "current_version")
    search_fields = ("name", "team__slug", "source_topic__name", "canonical_topic__name", "description")
    actions = ["delete_mappings"]
    inlines = [MappingVersionInline]
    fieldsets = (
        (None, {"fields": ("team", "name", "cluster", "description", "source_topic", "canonical_topic",
                           "current_version", "promoted_from")}),
        ("Apply", {"fields": ("status_badge", *RECONCILE_FIELDS[1:])}),
    )
    readonly_fields = [name for _, spec in fieldsets for name in spec["fields"]]

    @admin.action(description="Delete the selected mappings (the mapper stops running them)", permissions=["change"])
    def delete_mappings(self, request, queryset):
        run_per_object(self, request, queryset, done="Deleting {count} mapping(s).",
                       call=lambda m: mapping_delete(actor=request.user, mapping=m, via=VIA))


class CodeTableVersionInline(_ReadOnly, admin.TabularInline):
    model = CodeTableVersion
    fields = ("number", "entries", "has_default", "default", "author", "note", "created_at")
    readonly_fields = fields
    extra = 0
    ordering = ("-number",)


@admin.register(CodeTable)
class CodeTableAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("__str__", "team", "description", "generation", "deleted_at")
    list_select_related = ("team",)
    search_fields = ("name", "team__slug", "description")
    inlines = [CodeTableVersionInline]
    fields = ("team", "name", "description", "generation", "deleted_at")
    readonly_fields = fields


@admin.register(CanonicalTopic)
class CanonicalTopicAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("topic", "description", "marked_by", "marked_at")
    list_select_related = ("topic", "marked_by")
    search_fields = ("topic__name", "description")
    actions = ["unmark"]
    fields = ("topic", "description", "marked_by", "marked_at")
    readonly_fields = fields

    @admin.action(description="Unmark the selected canonical topics", permissions=["change"])
    def unmark(self, request, queryset):
        run_per_object(self, request, queryset, done="Unmarked {count} canonical topic(s).",
                       call=lambda c: canonical_topic_unmark(actor=request.user, topic=c.topic, via=VIA))
