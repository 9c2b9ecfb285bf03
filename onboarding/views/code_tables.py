"""Code tables in the browser: the list (every team's, shared vocabulary), a table's page with its versions,
and the create / new-version form, whose refusals are shown beside the fields (``entries.<code>`` beside the
entries)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse

from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.forms.mappings import CodeTableForm
from onboarding.models import AuditEvent
from onboarding.permissions import can_write_team
from onboarding.selectors import writable_teams_of
from onboarding.selectors.mappings import code_table_for, code_tables_visible_to
from onboarding.services import code_tables as services
from onboarding.views.common import after_post, form_status, portal_view

BROWSER = AuditEvent.Via.BROWSER


@portal_view
def code_table_list(request):
    return render(request, "mappings/code_table_list.html", {
        "tables": code_tables_visible_to(request.user).order_by("team__slug", "name"), "section": "mappings",
        "can_create": writable_teams_of(request.user).exists()})


@portal_view
def code_table_form(request, pk: int | None = None):
    table = code_table_for(request.user, pk) if pk is not None else None
    if table is not None and not can_write_team(request.user, table.team):
        raise PermissionDenied("Only owners and members of the team can change its code tables.")
    if table is None and not writable_teams_of(request.user).exists():
        raise PermissionDenied("You can create code tables only for a team in which you are an owner or a member.")
    form = CodeTableForm(request.POST if request.method == "POST" else None, user=request.user, table=table)
    if form.is_bound and form.is_valid():
        try:
            if table is None:
                table = services.code_table_create(actor=request.user, team=form.cleaned_data["team"],
                                                   name=form.cleaned_data["name"], via=BROWSER, **form.values())
            else:
                table = services.code_table_update(actor=request.user, table=table, via=BROWSER,
                                                   expected_generation=form.cleaned_data.get("generation"),
                                                   **form.values())
        except ValidationError as exc:
            form.add_service_errors({k.split(".")[0]: v for k, v in exc.message_dict.items()})
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {table} version {table.latest.number}.")
            return after_post(request, reverse("onboarding:code_table_detail", args=[table.pk]))
    return render(request, "mappings/code_table_form.html", {"form": form, "table": table, "section": "mappings"},
                  status=form_status(form))


@portal_view
def code_table_detail(request, pk: int):
    table = code_table_for(request.user, pk)
    return render(request, "mappings/code_table_detail.html", {
        "table": table, "versions": table.versions.select_related("author").order_by("-number"),
        "users": table.versions.filter(mapping_versions__isnull=False).values_list(
            "mapping_versions__mapping__team__slug", "mapping_versions__mapping__name", "number").distinct(),
        "section": "mappings", "can_write": can_write_team(request.user, table.team)})
