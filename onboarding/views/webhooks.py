"""A team's notifications: webhooks (list, add, rotate the secret, delete, send a test event), the
recent deliveries, and the e-mail recipients.

Every member of the team sees the page; only owners (and operators) change anything. The signing
secret exists only in the answer to the add or rotate POST, rendered once with ``Cache-Control:
no-store``, as for service account passwords.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.forms.webhooks import NotificationEmailsForm, WebhookCreateForm
from onboarding.models import AuditEvent, Team
from onboarding.notifications.webhooks import webhook_create, webhook_delete, webhook_rotate_secret, webhook_send_test
from onboarding.permissions import can_read_team, is_team_owner
from onboarding.selectors import webhook_for
from onboarding.services.teams import team_notification_emails_set
from onboarding.views.common import after_post, form_status, portal_view

BROWSER = AuditEvent.Via.BROWSER
RECENT_DELIVERIES = 30
OWNERS_ONLY = "Only the team's owners or platform operators change its notifications."


def _team(request, slug: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None or not can_read_team(request.user, team):
        raise NotFound("No such team.")
    return team


def _page(request, team: Team, *, form=None, emails_form=None):
    can_manage = is_team_owner(request.user, team)
    form = form or WebhookCreateForm()
    emails_form = emails_form or NotificationEmailsForm(
        initial={"notification_emails": "\n".join(team.notification_emails)})
    status = max(form_status(form), form_status(emails_form))
    return render(request, "onboarding/webhook_list.html", {
        "team": team, "can_manage": can_manage, "form": form, "emails_form": emails_form,
        "webhooks": team.webhooks.order_by("name"),
        "deliveries": team.notification_deliveries.select_related("webhook")[:RECENT_DELIVERIES],
        "section": "access",
    }, status=status)


def _secret_page(request, hook, secret: str, *, rotated: bool):
    response = render(request, "onboarding/webhook_secret.html",
                      {"hook": hook, "secret": secret, "rotated": rotated, "section": "access"})
    add_never_cache_headers(response)  # the page holds the only copy of the secret
    return response


@portal_view
def webhook_list(request, slug: str):
    team = _team(request, slug)
    if request.method != "POST":
        return _page(request, team)
    if not is_team_owner(request.user, team):
        raise PermissionDenied("Only the team's owners or platform operators can add its webhooks.")
    form = WebhookCreateForm(request.POST)
    if form.is_valid():
        try:
            hook, secret = webhook_create(actor=request.user, team=team, name=form.cleaned_data["name"],
                                          url=form.cleaned_data["url"], events=form.cleaned_data["events"],
                                          via=BROWSER)
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            return _secret_page(request, hook, secret, rotated=False)
    return _page(request, team, form=form)


@portal_view
def webhook_emails_view(request, slug: str):
    team = _team(request, slug)
    if request.method != "POST":
        return after_post(request, reverse("onboarding:webhooks", args=[team.slug]))
    if not is_team_owner(request.user, team):
        raise PermissionDenied(OWNERS_ONLY)
    form = NotificationEmailsForm(request.POST)
    if form.is_valid():
        try:
            team_notification_emails_set(actor=request.user, team=team, emails=form.addresses(), via=BROWSER)
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            messages.success(request, "E-mail recipients saved.")
            return after_post(request, reverse("onboarding:webhooks", args=[team.slug]))
    return _page(request, team, emails_form=form)


def _managed(request, pk: int):
    hook = webhook_for(request.user, pk)
    if not is_team_owner(request.user, hook.team):
        raise PermissionDenied("Only the team's owners or platform operators can change its webhooks.")
    return hook


@portal_view
def webhook_rotate_view(request, pk: int):
    """GET asks for confirmation; POST makes the new secret and shows it once."""
    hook = _managed(request, pk)
    if request.method == "POST":
        hook, secret = webhook_rotate_secret(actor=request.user, webhook=hook, via=BROWSER)
        return _secret_page(request, hook, secret, rotated=True)
    return render(request, "onboarding/webhook_confirm.html", {"hook": hook, "action": "rotate", "section": "access"})


@portal_view
def webhook_delete_view(request, pk: int):
    hook = _managed(request, pk)
    back = reverse("onboarding:webhooks", args=[hook.team.slug])
    if request.method == "POST":
        webhook_delete(actor=request.user, webhook=hook, via=BROWSER)
        messages.success(request, f"Webhook {hook.name} deleted; its deliveries stay in the log.")
        return after_post(request, back)
    return render(request, "onboarding/webhook_confirm.html", {"hook": hook, "action": "delete", "section": "access"})


@portal_view
def webhook_test_view(request, pk: int):
    hook = _managed(request, pk)
    back = reverse("onboarding:webhooks", args=[hook.team.slug])
    if request.method == "POST":
        delivery = webhook_send_test(actor=request.user, webhook=hook)
        messages.success(request, f"Test event queued (delivery {delivery.pk}); its status shows below.")
    return after_post(request, back)
