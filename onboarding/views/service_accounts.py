"""A team's service accounts: list, create, rotate, delete.

The password exists only in the answer to the create or rotate POST: it is rendered there once,
with ``Cache-Control: no-store``, and never put in the session, a message or a redirect. That one
answer is the exception to "redirect after a successful POST"; reloading it re-submits, and the
service refuses a duplicate name (create) or makes yet another password (rotate).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.forms.subscriptions import ServiceAccountCreateForm
from onboarding.models import AuditEvent, ChangeRequest, ResourceStatus, Team
from onboarding.permissions import can_read_team, can_write_team, is_operator, is_team_owner
from onboarding.selectors import service_account_for
from onboarding.services import client_settings as clients
from onboarding.services.service_accounts import (
    service_account_create,
    service_account_delete,
    service_account_rotate,
)
from onboarding.services.service_accounts_drift import (
    can_revert,
    has_drift,
    service_account_adopt,
    service_account_revert,
)
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, drift_decision, form_status, portal_view

BROWSER = AuditEvent.Via.BROWSER


def _team(request, slug: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None or not can_read_team(request.user, team):
        raise NotFound("No such team.")
    return team


def _secret_page(request, sa, password: str, *, rotated: bool):
    settings = clients.client_settings(sa.cluster, sa.username)
    response = render(request, "onboarding/service_account_secret.html", {
        "sa": sa, "password": password, "rotated": rotated, "bootstrap": settings["bootstrap.servers"],
        "librdkafka": clients.librdkafka_properties(settings, password),
        "java": clients.java_properties(settings, password),
        "kcat": clients.kcat_command(settings, password), "versions": clients.MIN_CLIENT_VERSIONS,
        "section": "access"})
    add_never_cache_headers(response)  # the page holds the only copy of the password
    return response


@portal_view
def service_account_list(request, slug: str):
    team = _team(request, slug)
    can_write = can_write_team(request.user, team)
    form = ServiceAccountCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied("Only owners and members of the team can create its service accounts.")
        if form.is_valid():
            try:
                outcome = service_account_create(
                    actor=request.user, team=team, cluster=form.cleaned_data["cluster"], name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    can_consume_own_topics=form.cleaned_data["can_consume_own_topics"], via=BROWSER)
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            else:
                if isinstance(outcome, ChangeRequest):
                    return to_change_request(request, outcome)
                return _secret_page(request, *outcome, rotated=False)
    accounts = list(team.service_accounts.exclude(status=ResourceStatus.DELETED).select_related("cluster")
                    .order_by("name"))
    for sa in accounts:
        sa.shows_drift, sa.may_revert = has_drift(sa), can_revert(sa)
    return render(request, "onboarding/service_account_list.html", {
        "team": team, "accounts": accounts, "form": form, "can_write": can_write, "section": "access",
        "can_decide_drift": is_team_owner(request.user, team) or is_operator(request.user),
    }, status=form_status(form))


def _writable(request, pk: int):
    sa = service_account_for(request.user, pk)
    if not can_write_team(request.user, sa.team):
        raise PermissionDenied("Only owners and members of the team can change its service accounts.")
    return sa


@portal_view
def service_account_rotate_view(request, pk: int):
    """GET asks for confirmation; POST makes the new password and shows it once."""
    sa = _writable(request, pk)
    back = reverse("onboarding:service_accounts", args=[sa.team.slug])
    if request.method == "POST":
        try:
            sa, password = service_account_rotate(actor=request.user, sa=sa, via=BROWSER)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
            return after_post(request, back)
        return _secret_page(request, sa, password, rotated=True)
    if sa.wants_deletion or sa.status == ResourceStatus.DELETED:
        messages.info(request, f"{sa.username} is deleted or being deleted.")
        return redirect(back)
    return render(request, "onboarding/service_account_confirm.html",
                  {"sa": sa, "action": "rotate", "section": "access"})


@portal_view
def service_account_delete_view(request, pk: int):
    sa = _writable(request, pk)
    back = reverse("onboarding:service_accounts", args=[sa.team.slug])
    if request.method == "POST":
        try:
            sa = service_account_delete(actor=request.user, sa=sa, via=BROWSER)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            if isinstance(sa, ChangeRequest):
                return to_change_request(request, sa)
            messages.success(request, f"Deleting {sa.username}: its credential and ACLs are removed from "
                                      f"{sa.cluster.name}.")
        return after_post(request, back)
    if sa.wants_deletion or sa.status == ResourceStatus.DELETED:
        messages.info(request, f"{sa.username} is deleted or being deleted.")
        return redirect(back)
    return render(request, "onboarding/service_account_confirm.html",
                  {"sa": sa, "action": "delete", "section": "access",
                   "users": sa.subscriptions.filter(decision__in=["requested", "approved"])
                   .select_related("source")})


def _drift_decision(request, pk: int, service, done: str):
    sa = service_account_for(request.user, pk)
    return drift_decision(request, lambda: service(actor=request.user, sa=sa, via=BROWSER),
                          done=lambda changed: done.format(name=changed.username),
                          back=reverse("onboarding:service_accounts", args=[sa.team.slug]))


@portal_view
@require_POST
def service_account_revert_view(request, pk: int):
    return _drift_decision(request, pk, service_account_revert,
                           "Reverting {name}: the portal's standard ACLs are put back on the cluster.")


@portal_view
@require_POST
def service_account_adopt_view(request, pk: int):
    return _drift_decision(request, pk, service_account_adopt,
                           "Adopted the cluster's ACLs as the desired ACLs of {name}.")
