"""Connectors in the browser: the list, the connector page (states, tasks, errors, offsets, drift, actions) and
the declare/change form, whose refusals (Connect's own among them) are shown beside the fields they name."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.forms.connectors import ConnectorForm
from onboarding.models import AuditEvent, ChangeRequest, Connector, ResourceStatus
from onboarding.permissions import can_write_team, is_team_owner
from onboarding.selectors import connector_for, connectors_visible_to, writable_teams_of
from onboarding.services import connectors as services
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, form_status, htmx_target, portal_view, show_refusal

BROWSER = AuditEvent.Via.BROWSER


@portal_view
def connector_list(request):
    wants_deleted = request.GET.get("status") == ResourceStatus.DELETED
    rows = connectors_visible_to(request.user, include_deleted=wants_deleted).order_by("team__slug", "name")
    if team := request.GET.get("team"):
        rows = rows.filter(team__slug=team)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "onboarding/connector_list.html", {
        "page": page, "section": "connectors", "team": team or "",
        "can_create": writable_teams_of(request.user).exists()})


@portal_view
def connector_create_view(request):
    if not writable_teams_of(request.user).exists():
        raise PermissionDenied("You can declare connectors only for a team in which you are an owner or a member.")
    if request.method != "POST":
        return _render_form(request, ConnectorForm(user=request.user))
    form = ConnectorForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            result = services.connector_create(actor=request.user, team=form.cleaned_data["team"],
                                               cluster=form.cleaned_data["cluster"], name=form.cleaned_data["name"],
                                               via=BROWSER, **form.values())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            if isinstance(result, ChangeRequest):
                return to_change_request(request, result)
            messages.success(request, f"Declared {result.connector_name}; the worker starts it shortly.")
            return after_post(request, reverse("onboarding:connector_detail", args=[result.pk]))
    return _render_form(request, form, status=form_status(form))


def _render_form(request, form: ConnectorForm, *, status: int = 200):
    return render(request, "onboarding/connector_form.html", {
        "form": form, "connector": form.connector, "creating": form.connector is None, "section": "connectors",
    }, status=status)


def _editable(request, pk: int) -> Connector:
    connector = connector_for(request.user, pk)
    if not can_write_team(request.user, connector.team):
        raise PermissionDenied("Only owners and members of the team can change its connectors.")
    return connector


@portal_view
def connector_edit_view(request, pk: int):
    connector = _editable(request, pk)
    if not connector.is_live or connector.wants_deletion:
        messages.info(request, f"{connector.connector_name} is deleted or being deleted.")
        return redirect("onboarding:connector_detail", pk=connector.pk)
    if request.method != "POST":
        return _render_form(request, ConnectorForm(user=request.user, connector=connector))
    form = ConnectorForm(request.POST, user=request.user, connector=connector)
    if form.is_valid():
        try:
            result = services.connector_update(actor=request.user, connector=connector, via=BROWSER,
                                               expected_generation=form.cleaned_data.get("generation"),
                                               **form.changes())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            if isinstance(result, ChangeRequest):
                return to_change_request(request, result)
            messages.success(request, f"Saved {result.connector_name}.")
            return after_post(request, reverse("onboarding:connector_detail", args=[result.pk]))
    return _render_form(request, form, status=form_status(form))


@portal_view
def connector_detail(request, pk: int):
    connector = connector_for(request.user, pk)
    context = {"connector": connector}
    if htmx_target(request) == "connector-status":
        return render(request, "onboarding/partials/_connector_status.html", context)
    offsets, offsets_error = services.connector_offsets(connector) if connector.is_live else ([], "")
    context.update({
        "section": "connectors", "offsets": offsets, "offsets_error": offsets_error,
        "can_write": can_write_team(request.user, connector.team) and connector.is_live
        and not connector.wants_deletion,
        "can_decide_drift": is_team_owner(request.user, connector.team) and connector.is_live,
    })
    return render(request, "onboarding/connector_detail.html", context)


ACTIONS = {
    "pause": (lambda user, c: services.connector_set_state(actor=user, connector=c, state="paused", via=BROWSER),
              "Pausing {name}."),
    "resume": (lambda user, c: services.connector_set_state(actor=user, connector=c, state="running", via=BROWSER),
               "Resuming {name}."),
    "stop": (lambda user, c: services.connector_set_state(actor=user, connector=c, state="stopped", via=BROWSER),
             "Stopping {name}."),
    "restart": (lambda user, c: services.connector_restart(actor=user, connector=c, via=BROWSER),
                "Restarted {name} and its tasks."),
    "delete": (lambda user, c: services.connector_delete(actor=user, connector=c, via=BROWSER),
               "Deleting {name} from the worker."),
    "revert": (lambda user, c: services.connector_drift_revert(actor=user, connector=c, via=BROWSER),
               "Putting the portal's config of {name} back."),
    "adopt": (lambda user, c: services.connector_drift_adopt(actor=user, connector=c, via=BROWSER),
              "Took the worker's config of {name}."),
    "reset-offsets": (lambda user, c: services.connector_offsets_reset(actor=user, connector=c, via=BROWSER),
                      "Reset the offsets of {name}: it starts over when resumed."),
}


@portal_view
@require_POST
def connector_action(request, pk: int, action: str):
    connector = connector_for(request.user, pk)
    call, done = ACTIONS.get(action, (None, ""))
    if call is None:
        messages.error(request, f"Unknown action {action!r}.")
        return after_post(request, reverse("onboarding:connector_detail", args=[connector.pk]))
    try:
        result = call(request.user, connector)
    except ValidationError as exc:
        show_refusal(request, exc)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        if isinstance(result, ChangeRequest):
            return to_change_request(request, result)
        messages.success(request, done.format(name=connector.connector_name))
    return after_post(request, reverse("onboarding:connector_detail", args=[connector.pk]))
