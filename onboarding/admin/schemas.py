"""Schemas (registry subjects): operators inspect versions and status, decide about drift and change the
compatibility level through schema_set_compatibility. Schemas are created in the portal or the API (or
imported with their topic); they go away with their topic, never as a deleted row."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from onboarding.admin.common import (
    REFUSALS,
    VIA,
    ReconciledDisplay,
    change_request_message,
    refusal_text,
    run_per_object,
)
from onboarding.admin.topics import ApplyAttemptInline
from onboarding.models import Schema, SchemaVersion, SensitiveField
from onboarding.services.schemas import _check_inputs, schema_set_compatibility
from onboarding.services.schemas_drift import schema_adopt, schema_revert

TEXT_STYLE = ("font-family: monospace; white-space: pre-wrap; max-height: 24em; overflow: auto; margin: 0; "
              "padding: 0.5em; background: var(--darkened-bg); border: 1px solid var(--hairline-color)")


class SchemaChangeForm(forms.ModelForm):
    """Only the compatibility level is editable; it is checked by the same rules as in the portal and the API."""

    class Meta:
        model = Schema
        fields = ("compatibility",)

    def clean(self):
        cleaned = super().clean()
        if self.errors or "compatibility" not in self.changed_data:
            return cleaned
        # self.instance is still the row as loaded: ModelForm copies the input onto it after clean().
        schema = self.instance
        errors = _check_inputs(schema.topic, schema.side, schema.format, cleaned["compatibility"])
        for field, problems in errors.items():
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)
        return cleaned


class SensitiveFieldInline(admin.TabularInline):
    """Read-only here: teams tag fields in the portal or the API, where the path is checked and the change audited."""

    model = SensitiveField
    fields = ("path", "classification", "note", "tagged_by", "tagged_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SchemaVersionInline(admin.StackedInline):
    model = SchemaVersion
    fields = (("number", "registry_id", "registry_version"), ("author", "created_at", "registered_at"), "note",
              "text_block")
    readonly_fields = ("number", "registry_id", "registry_version", "author", "created_at", "registered_at", "note",
                       "text_block")
    ordering = ("number",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="text")
    def text_block(self, obj):
        return format_html('<pre style="{}">{}</pre>', TEXT_STYLE, obj.text)


class SchemaAttemptInline(ApplyAttemptInline):
    fk_name = "schema"
    fields = ("started_at", "generation", "outcome", "duration_ms", "error", "actions", "run_id")
    readonly_fields = fields


@admin.register(Schema)
class SchemaAdmin(ReconciledDisplay, admin.ModelAdmin):
    form = SchemaChangeForm
    list_display = ("subject", "topic", "team", "format", "compatibility", "status_badge", "generations",
                    "updated_at")
    list_filter = ("status", "format", "compatibility", ("topic__cluster", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("topic__team", "topic__cluster")
    search_fields = ("topic__name",)
    actions = ["revert_drift", "adopt_drift"]
    inlines = [SchemaVersionInline, SensitiveFieldInline, SchemaAttemptInline]
    readonly_fields = (
        "subject", "topic", "team", "side", "format", "status_badge", "generation", "observed_generation",
        "last_error", "failures", "next_attempt_at", "ready_at", "drift", "observed", "created_at", "updated_at",
        "delete_requested_at", "deleted_at", "attempt_history",
    )
    fieldsets = (
        (None, {"fields": ("subject", "topic", "team", ("side", "format"))}),
        ("Desired state", {"fields": ("compatibility",)}),
        ("Reconciliation", {"fields": ("status_badge", ("generation", "observed_generation"), "last_error",
                                       ("failures", "next_attempt_at"), "ready_at", "attempt_history")}),
        ("Drift", {"fields": ("drift", "observed")}),
        ("Lifecycle", {"classes": ("collapse",),
                       "fields": ("created_at", "updated_at", "delete_requested_at", "deleted_at")}),
    )

    # Schemas are created in the portal or the API, or imported with their topic.
    def has_add_permission(self, request):
        return False

    # A subject is deleted with its topic (a confirmed step in the portal), never as a row.
    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "compatibility" not in form.changed_data:
            return
        try:
            outcome = schema_set_compatibility(actor=request.user, schema=obj, via=VIA,
                                               compatibility=form.cleaned_data["compatibility"])
            change_request_message(self, request, outcome)
        except REFUSALS as exc:  # changed since the form was checked (the cluster's policy, the topic)
            self.message_user(request, f"{obj}: {refusal_text(exc)}", messages.ERROR)
        obj.refresh_from_db()  # the row as the service left it, for the admin's log and redirect

    @admin.display(description="subject", ordering="topic__name")
    def subject(self, obj):
        return obj.subject

    @admin.display(description="team", ordering="topic__team__slug")
    def team(self, obj):
        return obj.topic.team

    @admin.display(description="history")
    def attempt_history(self, obj):
        url = reverse("admin:onboarding_applyattempt_changelist") + "?" + urlencode({"schema__id__exact": obj.pk})
        return format_html('<a href="{}">All apply attempts</a>', url)

    @admin.action(description="Revert drift (make the registry match the portal)", permissions=["change"])
    def revert_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Reverting the drift of {count} schema(s).",
                       call=lambda schema: schema_revert(actor=request.user, schema=schema, via=VIA))

    @admin.action(description="Adopt drift (take what the registry has)", permissions=["change"])
    def adopt_drift(self, request, queryset):
        run_per_object(self, request, queryset, done="Adopted the registry's state for {count} schema(s).",
                       call=lambda schema: schema_adopt(actor=request.user, schema=schema, via=VIA))
