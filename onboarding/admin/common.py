"""Pieces shared by the admin modules: calling services per object or with a form's changes; read-only admins."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.utils.html import format_html

from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest

VIA = AuditEvent.Via.ADMIN
# What a service raises when it refuses a request; the admin shows these, anything else is a bug.
REFUSALS = (ValidationError, PermissionDenied, Conflict)


def change_request_message(model_admin, request, outcome) -> bool:
    """If a service answered with a change request (the cluster's policy holds the change for approval), say
    where it waits and return True."""
    from django.urls import reverse

    if not isinstance(outcome, ChangeRequest):
        return False
    model_admin.message_user(request, format_html(
        'This change needs approval on {}: <a href="{}">change request #{}</a> waits for a second person; '
        "nothing was changed yet.", outcome.cluster.name,
        reverse("onboarding:change_request_detail", args=[outcome.pk]), outcome.pk), messages.WARNING)
    return True


def refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


def run_per_object(model_admin, request, queryset, call: Callable, *, done: str) -> None:
    """Run ``call(obj)`` for each selected row; one refusal is reported and does not stop the others.

    Each service call has its own transaction, so the rows that succeeded stay changed.
    """
    succeeded = 0
    for obj in queryset:
        try:
            call(obj)
        except REFUSALS as exc:
            model_admin.message_user(request, f"{obj}: {refusal_text(exc)}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        model_admin.message_user(request, done.format(count=succeeded), messages.SUCCESS)


def adopt_saved(obj, saved) -> None:
    """Make the admin's unsaved ``obj`` the row a service created, so the admin's redirect and log use it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


def form_changes(form, fields=None) -> dict:
    """The values the operator changed on ``form`` (limited to ``fields``), as keyword arguments for a service."""
    return {name: form.cleaned_data[name] for name in form.changed_data
            if name in form.cleaned_data and (fields is None or name in fields)}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the system (audit, attempts): operators read them, nobody edits them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


STATUS_COLOURS = {"pending": "#8a6d00", "applying": "#1565c0", "ready": "#2e7d32", "failed": "#c62828",
                  "drifted": "#e65100", "deleting": "#6a1b9a", "deleted": "#757575"}


class ReconciledDisplay:
    """List and form columns shared by the admins of reconciled resources (topics, schemas, access)."""

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        colour = STATUS_COLOURS.get(obj.status, "inherit")
        return format_html('<strong style="color: {}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description="generation / observed")
    def generations(self, obj):
        return f"{obj.generation} / {obj.observed_generation}"
