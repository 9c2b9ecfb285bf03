"""Aggregations in the browser: the list, the definition page, define/change forms (checked as you type)
and delete.

Every rule is the service's: the views show what the service allows and put its refusals back as field
errors (forms) or messages (buttons).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.aggregation_rules import format_duration
from onboarding.errors import Conflict, NotFound, PermissionDenied, ValidationError
from onboarding.filtersets import AggregationFilterSet
from onboarding.forms.aggregations import AggregationForm
from onboarding.models import Aggregation, AuditEvent, ChangeRequest, ResourceStatus, Topic
from onboarding.permissions import can_read_team, can_write_team
from onboarding.selectors import aggregation_for, aggregations_visible_to, topic_for, writable_teams_of
from onboarding.services.aggregations import (
    aggregation_create,
    aggregation_delete,
    aggregation_errors,
    aggregation_update,
)
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, form_status, htmx_target, portal_view, show_refusal

BROWSER = AuditEvent.Via.BROWSER
# Kept when the team select re-renders the form (its sources change with the team).
KEPT_ON_TEAM_SWITCH = ("team", "name", "description", "filter", "group_by", "window_type", "size", "advance", "gap",
                       "grace", "time_source", "time_field", "measures", "emit", "late", "output_topic",
                       "start_from", "source")


@portal_view
def aggregation_list(request):
    wants_deleted = request.GET.get("status") == ResourceStatus.DELETED
    rows = AggregationFilterSet(request.GET, queryset=aggregations_visible_to(
        request.user, include_deleted=wants_deleted).order_by("team__slug", "name")).qs
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "onboarding/aggregation_list.html", {
        "page": page, "section": "aggregations", "team": request.GET.get("team", ""),
        "can_create": writable_teams_of(request.user).exists()})


# ---------------------------------------------------------------------------------------------- define

def _initial_from_query(request) -> dict:
    initial = {k: v for k, v in request.GET.items() if k in KEPT_ON_TEAM_SWITCH}
    if (source := initial.get("source")) and str(source).isdigit():
        # Coming from a topic's page: its team, when the user writes it, and a name for the results.
        topic = Topic.objects.filter(pk=source).select_related("team").first()
        if topic is not None and "team" not in initial and can_write_team(request.user, topic.team):
            initial["team"] = topic.team_id
    return initial


@portal_view
def aggregation_create_view(request):
    if not writable_teams_of(request.user).exists():
        raise PermissionDenied("You can define aggregations only for a team in which you are an owner or a member.")
    if request.method != "POST":
        form = AggregationForm(user=request.user, initial=_initial_from_query(request))
        return _render_form(request, form)
    form = AggregationForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            agg = aggregation_create(actor=request.user, team=form.cleaned_data["team"],
                                     name=form.cleaned_data["name"], via=BROWSER, **form.values())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            if isinstance(agg, ChangeRequest):
                return to_change_request(request, agg)
            messages.success(request, f"Defined {agg.definition_id}; the engine starts it shortly.")
            return after_post(request, reverse("onboarding:aggregation_detail", args=[agg.pk]))
    return _render_form(request, form, status=form_status(form))


@portal_view
@require_POST
def aggregation_validate(request):
    """Checked as you type: the service's errors, swapped beside each field; nothing is saved."""
    form = AggregationForm(request.POST, user=request.user)
    if form.is_valid():
        form.add_service_errors(aggregation_errors(team=form.cleaned_data["team"], name=form.cleaned_data["name"],
                                                   values=form.values()), skip_failed=True)
    _quiet_untouched(form, request.POST)
    return render(request, "onboarding/partials/_form_errors.html", {"form": form, "limits": {}})


def _quiet_untouched(form, data) -> None:
    """No scolding for fields nobody has typed in yet; the submit still reports them."""
    for name in ("name", "output_topic", "measures", "size", "source"):
        if not (data.get(name) or "").strip():
            form.errors.pop(name, None)


def _render_form(request, form: AggregationForm, *, status: int = 200):
    agg = form.aggregation
    return render(request, "onboarding/aggregation_form.html", {
        "form": form, "aggregation": agg, "creating": agg is None, "section": "aggregations",
        "validate_url": reverse("onboarding:aggregation_edit_validate", args=[agg.pk]) if agg
        else reverse("onboarding:aggregation_validate"),
    }, status=status)


# ---------------------------------------------------------------------------------------------- change

def _editable(request, pk: int) -> Aggregation:
    agg = aggregation_for(request.user, pk)
    if not can_write_team(request.user, agg.team):
        raise PermissionDenied("Only owners and members of the team can change its aggregations.")
    return agg


@portal_view
def aggregation_edit_view(request, pk: int):
    agg = _editable(request, pk)
    if not agg.is_live or agg.wants_deletion:
        messages.info(request, f"{agg.definition_id} is deleted or being deleted; it can no longer be changed.")
        return redirect("onboarding:aggregation_detail", pk=agg.pk)
    if request.method != "POST":
        return _render_form(request, AggregationForm(user=request.user, aggregation=agg))
    form = AggregationForm(request.POST, user=request.user, aggregation=agg)
    if form.is_valid():
        try:
            result = aggregation_update(actor=request.user, aggregation=agg, via=BROWSER,
                                        expected_generation=form.cleaned_data.get("generation"), **form.changes())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            if isinstance(result, ChangeRequest):
                return to_change_request(request, result)
            messages.success(request, f"Saved {result.definition_id} (version {result.version}).")
            return after_post(request, reverse("onboarding:aggregation_detail", args=[result.pk]))
    return _render_form(request, form, status=form_status(form))


@portal_view
@require_POST
def aggregation_edit_validate(request, pk: int):
    agg = _editable(request, pk)
    form = AggregationForm(request.POST, user=request.user, aggregation=agg)
    if form.is_valid():
        form.add_service_errors(aggregation_errors(team=agg.team, values=form.changes(), current=agg),
                                skip_failed=True)
    return render(request, "onboarding/partials/_form_errors.html", {"form": form, "limits": {}})


@portal_view
@require_POST
def aggregation_delete_view(request, pk: int):
    agg = aggregation_for(request.user, pk)
    try:
        result = aggregation_delete(actor=request.user, aggregation=agg, via=BROWSER)
    except (ValidationError, PermissionDenied) as exc:
        show_refusal(request, exc)
    else:
        if isinstance(result, ChangeRequest):
            return to_change_request(request, result)
        messages.success(request, f"Deleting {agg.definition_id}: the engine stops it; {agg.output_topic} and "
                                  "its results stay.")
    return after_post(request, reverse("onboarding:aggregation_detail", args=[agg.pk]))


# ---------------------------------------------------------------------------------------------- the page

def window_text(agg: Aggregation) -> str:
    """The window in words: "tumbling, 1h, grace 1m"."""
    parts = [agg.window_type]
    if agg.size_ms is not None:
        parts.append(f"size {format_duration(agg.size_ms)}")
    if agg.advance_ms is not None:
        parts.append(f"advancing by {format_duration(agg.advance_ms)}")
    if agg.gap_ms is not None:
        parts.append(f"closed after a gap of {format_duration(agg.gap_ms)}")
    parts.append(f"grace {format_duration(agg.grace_ms)}" if agg.grace_ms else "no grace")
    return ", ".join(parts)


@portal_view
def aggregation_detail(request, pk: int):
    agg = aggregation_for(request.user, pk)
    insider = can_read_team(request.user, agg.team)
    context = {"agg": agg, "insider": insider}
    if htmx_target(request) == "aggregation-status":
        response = render(request, "onboarding/partials/_aggregation_status.html", context)
        if not agg.is_settling:
            response["HX-Trigger"] = "aggregation-settled"
        return response
    output = Topic.objects.filter(cluster_id=agg.cluster_id, name=agg.output_topic).exclude(
        status=ResourceStatus.DELETED).first()
    source_visible = topic_for_or_none(request.user, agg.source_id)
    context.update({
        "section": "aggregations", "window_text": window_text(agg), "output": output,
        "source_visible": source_visible is not None,
        "can_write": can_write_team(request.user, agg.team) and agg.is_live and not agg.wants_deletion,
    })
    return render(request, "onboarding/aggregation_detail.html", context)


def topic_for_or_none(user, pk) -> Topic | None:
    try:
        return topic_for(user, pk)
    except NotFound:  # a private topic of another team: the page shows its name without a link
        return None
