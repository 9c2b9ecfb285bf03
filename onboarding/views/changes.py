"""Change request pages: the lists (waiting for me, mine), the request with its plan and impact, decisions,
refresh, and the promotion form of a topic."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding import selectors
from onboarding.changes.plans import config_diff_lines
from onboarding.changes.promotion import next_environment, topic_promote
from onboarding.changes.requests import (
    can_approve,
    change_request_approve,
    change_request_refresh,
    change_request_reject,
    change_request_withdraw,
)
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.forms.base import DecisionForm
from onboarding.forms.changes import PromoteForm
from onboarding.models import AuditEvent, ChangeRequest
from onboarding.permissions import can_write_team
from onboarding.views.common import after_post, form_status, portal_view, show_refusal

BROWSER = AuditEvent.Via.BROWSER


def to_change_request(request, cr: ChangeRequest):
    """After a write the cluster's policy turned into a request: say so and show the request."""
    if cr.status == ChangeRequest.Status.PENDING:
        messages.info(request, f"This change needs approval on {cr.cluster.name}: change request #{cr.pk} is "
                               "waiting for a second person.")
    else:
        messages.success(request, f"Change request #{cr.pk}: {cr.get_status_display().lower()}.")
    return after_post(request, reverse("onboarding:change_request_detail", args=[cr.pk]))


@portal_view
def change_request_list(request):
    return render(request, "onboarding/change_request_list.html", {
        "section": "changes",
        "awaiting": selectors.change_requests_awaiting(request.user)[:100],
        "mine": selectors.change_requests_visible_to(request.user).filter(requested_by=request.user)[:100],
        "team_requests": selectors.change_requests_visible_to(request.user).exclude(requested_by=request.user)[:100],
    })


@portal_view
def change_request_detail(request, pk: int):
    cr = selectors.change_request_for(request.user, pk)
    steps = [{**step, "diff_lines": config_diff_lines(step.get("details", {}))} for step in cr.plan.get("steps", [])]
    return render(request, "onboarding/change_request_detail.html", {
        "section": "changes", "cr": cr, "steps": steps, "can_decide": cr.is_pending and can_approve(request.user, cr),
        "can_refresh": cr.is_pending and can_write_team(request.user, cr.team),
        "is_requester": cr.requested_by_id == request.user.pk, "decision_form": DecisionForm(),
    })


def _act(request, pk: int, service, done: str, *, decision: bool = True):
    """Run a change request's action from its page. A decision (approve, reject) carries the form's comment and may
    fail in its apply step; withdrawing and recomputing take no comment."""
    cr = selectors.change_request_for(request.user, pk)
    extra = {}
    if decision:
        form = DecisionForm(request.POST)
        form.is_valid()
        extra["comment"] = form.cleaned_data.get("comment", "")
    try:
        result = service(actor=request.user, change_request=cr, via=BROWSER, **extra)
    except (PermissionDenied, ValidationError) as exc:
        show_refusal(request, exc)
    else:
        if decision and result.status == ChangeRequest.Status.FAILED:
            messages.error(request, f"Approved, but applying failed: {result.error}")
        else:
            messages.success(request, done)
    return after_post(request, reverse("onboarding:change_request_detail", args=[cr.pk]))


@portal_view
@require_POST
def change_request_approve_view(request, pk: int):
    return _act(request, pk, change_request_approve, "Approved and applied.")


@portal_view
@require_POST
def change_request_reject_view(request, pk: int):
    return _act(request, pk, change_request_reject, "Rejected: nothing was applied.")


@portal_view
@require_POST
def change_request_withdraw_view(request, pk: int):
    return _act(request, pk, change_request_withdraw, "Withdrawn: nothing was applied.", decision=False)


@portal_view
@require_POST
def change_request_refresh_view(request, pk: int):
    return _act(request, pk, change_request_refresh, "Plan and impact recomputed against the cluster.", decision=False)


@portal_view
def topic_promote_view(request, pk: int):
    topic = selectors.topic_for(request.user, pk)
    if not can_write_team(request.user, topic.team):
        raise PermissionDenied("Only owners and members of the team can promote its topics.")
    target = next_environment(topic.cluster)
    initial = {"partitions": topic.partitions, "replication_factor": topic.replication_factor,
               "configs": json.dumps(topic.configs, indent=2, sort_keys=True)}
    form = PromoteForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            cr = topic_promote(actor=request.user, topic=topic, via=BROWSER, overrides=dict(form.cleaned_data))
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            return to_change_request(request, cr)
    return render(request, "onboarding/topic_promote.html", {
        "section": "topics", "topic": topic, "target": target, "form": form,
        "schemas": topic.schemas.exclude(status="deleted"),
    }, status=form_status(form))
