"""Subscriptions in the browser: asking for a topic, the subscription page, decisions, filters.

Every rule is the service's: the views show what the service allows and put its refusals back as
field errors (forms) or messages (buttons).
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.forms.base import DecisionForm
from onboarding.forms.subscriptions import FilterEditForm, FilterTestForm, SubscribeForm
from onboarding.models import AuditEvent, ChangeRequest, Subscription
from onboarding.permissions import can_write_team, is_operator, is_team_owner, writes_in_another_team
from onboarding.selectors import (
    pending_approvals_for,
    service_accounts_visible_to,
    subscription_for,
    subscription_traffic,
    subscriptions_visible_to,
    teams_of,
    topic_for,
    writable_teams_of,
)
from onboarding.services.service_accounts_drift import subscription_adopt, subscription_revert
from onboarding.services.subscriptions import (
    subscription_approve,
    subscription_filter_test,
    subscription_reject,
    subscription_request,
    subscription_revoke,
    subscription_update_filter,
)
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, drift_decision, form_status, htmx_target, portal_view, show_refusal

BROWSER = AuditEvent.Via.BROWSER
Decision = Subscription.Decision
EXAMPLE_FILTER = "value.amount > `100` && headers.region == 'eu'"
KEPT_ON_TEAM_SWITCH = ("subscriber", "mode", "destination_name", "filter", "reason")


def subscriptions_of_teams(user, limit: int | None = None):
    """The subscriptions of the user's teams, both sides (what they read and who reads their topics)."""
    teams = teams_of(user).values("pk")
    rows = subscriptions_visible_to(user).filter(Q(subscriber_id__in=teams) | Q(source__team_id__in=teams))
    return rows[:limit] if limit else rows


def subscriber_teams(user, topic):
    return writable_teams_of(user).exclude(pk=topic.team_id)


def may_subscribe(user, topic) -> bool:
    return topic.is_live and not topic.wants_deletion and writes_in_another_team(user, topic.team)


# ---------------------------------------------------------------------------------------------- subscribe

@portal_view
def subscribe_view(request, pk: int):
    topic = topic_for(request.user, pk)
    if not subscriber_teams(request.user, topic).exists():
        raise PermissionDenied("You can subscribe only a team in which you are an owner or a member, other than "
                               "the topic's own team.")
    if request.method != "POST":
        initial = {k: v for k, v in request.GET.items() if k in KEPT_ON_TEAM_SWITCH}
        form = SubscribeForm(user=request.user, topic=topic, initial=initial)
        return _render_subscribe(request, form, topic)

    form = SubscribeForm(request.POST, user=request.user, topic=topic)
    if form.is_valid():
        try:
            sub = subscription_request(actor=request.user, via=BROWSER, **form.request_kwargs())
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            if isinstance(sub, ChangeRequest):
                return to_change_request(request, sub)
            if sub.decision == Decision.APPROVED:
                messages.success(request, f"Subscribed {sub.subscriber.slug} to {topic.name}: approved "
                                          "automatically, it is being applied.")
            else:
                messages.success(request, f"Requested {topic.name} for {sub.subscriber.slug}; the owners of "
                                          f"{topic.team.slug} decide.")
            return after_post(request, reverse("onboarding:subscription_detail", args=[sub.pk]))
    return _render_subscribe(request, form, topic, status=form_status(form))


def _render_subscribe(request, form, topic, status: int = 200):
    return render(request, "onboarding/subscription_form.html", {
        "form": form, "topic": topic, "section": "access", "example_filter": EXAMPLE_FILTER,
        "test_form": FilterTestForm(), "needs_approval": topic.visibility != topic.Visibility.PUBLIC
        or topic.subscriptions_need_approval,
    }, status=status)


@portal_view
@require_POST
def filter_test_view(request):
    """The "Test this filter" box: matched, not matched, or what is wrong (nothing is stored)."""
    form = FilterTestForm(request.POST)
    result, errors = None, []
    if form.is_valid():
        result = subscription_filter_test(expression=form.cleaned_data["filter"],
                                          event_text=form.cleaned_data["event"],
                                          headers=form.cleaned_data["headers"])
    else:
        errors = [message for field_errors in form.errors.values() for message in field_errors]
    return render(request, "onboarding/partials/_filter_test.html",
                  {"result": result, "errors": errors, "has_filter": bool(form.data.get("filter", "").strip())})


# ---------------------------------------------------------------------------------------------- the page

def _settling(sub: Subscription) -> bool:
    """Only an approved (or revoked, being removed) subscription is worked on by the reconciler."""
    return sub.is_settling and (sub.decision == Decision.APPROVED or sub.wants_deletion)


@portal_view
def subscription_detail(request, pk: int):
    sub = subscription_for(request.user, pk)
    user = request.user
    context = {"sub": sub, "settling": _settling(sub)}
    if htmx_target(request) == "subscription-status":
        response = render(request, "onboarding/partials/_subscription_status.html", context)
        if not context["settling"]:
            response["HX-Trigger"] = "subscription-settled"
        return response
    waiting = sub.decision == Decision.REQUESTED
    active = sub.decision in (Decision.REQUESTED, Decision.APPROVED) and not sub.wants_deletion
    context.update({
        "section": "access",
        "counters": subscription_traffic(sub),
        "can_decide": waiting and is_team_owner(user, sub.source.team) and sub.requested_by_id != user.pk,
        "is_requester": waiting and sub.requested_by_id == user.pk,
        "can_revoke": active and (can_write_team(user, sub.subscriber) or is_team_owner(user, sub.source.team)),
        "can_edit_filter": active and sub.mode == Subscription.Mode.ROUTED and can_write_team(user, sub.subscriber),
        "decision_form": DecisionForm(),
        "drift_decidable": bool(sub.drift) and sub.status in ("drifted", "failed") and (
            is_team_owner(user, sub.source.team) or is_team_owner(user, sub.subscriber) or is_operator(user)),
    })
    return render(request, "onboarding/subscription_detail.html", context)


def _drift_decision(request, pk: int, service, done: str):
    sub = subscription_for(request.user, pk)
    return drift_decision(request, lambda: service(actor=request.user, subscription=sub, via=AuditEvent.Via.BROWSER),
                          done=lambda _: done, back=reverse("onboarding:subscription_detail", args=[sub.pk]))


@portal_view
@require_POST
def subscription_drift_revert_view(request, pk: int):
    return _drift_decision(request, pk, subscription_revert, "Reverting: the subscription's ACLs are put back.")


@portal_view
@require_POST
def subscription_drift_adopt_view(request, pk: int):
    return _drift_decision(request, pk, subscription_adopt, "Adopted the cluster's ACLs for this subscription.")


def _next_or(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _act(request, pk: int, service, done: str):
    """A decision button: the service decides; a refusal is a message on the page the user came from."""
    sub = subscription_for(request.user, pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        sub = service(actor=request.user, subscription=sub, comment=form.cleaned_data.get("comment", ""), via=BROWSER)
    except (PermissionDenied, ValidationError) as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, done.format(source=sub.source.name, subscriber=sub.subscriber.slug))
    return after_post(request, _next_or(request, reverse("onboarding:subscription_detail", args=[sub.pk])))


@portal_view
@require_POST
def subscription_approve_view(request, pk: int):
    return _act(request, pk, subscription_approve, "Approved {subscriber}'s subscription to {source}.")


@portal_view
@require_POST
def subscription_reject_view(request, pk: int):
    return _act(request, pk, subscription_reject, "Rejected {subscriber}'s request for {source}.")


@portal_view
@require_POST
def subscription_revoke_view(request, pk: int):
    return _act(request, pk, subscription_revoke, "Revoked {subscriber}'s subscription to {source}.")


@portal_view
def subscription_filter_view(request, pk: int):
    """Change a routed subscription's filter (the subscribing team's writers)."""
    sub = subscription_for(request.user, pk)
    if not can_write_team(request.user, sub.subscriber):
        raise PermissionDenied("Only owners and members of the subscribing team can change its filter.")
    form = FilterEditForm(request.POST if request.method == "POST" else None, initial={"filter": sub.filter})
    if request.method == "POST" and form.is_valid():
        try:
            sub = subscription_update_filter(actor=request.user, subscription=sub, filter=form.cleaned_data["filter"],
                                             via=BROWSER)
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            messages.success(request, "Filter saved." + (" The new rule is being applied." if _settling(sub) else ""))
            return after_post(request, reverse("onboarding:subscription_detail", args=[sub.pk]))
    return render(request, "onboarding/subscription_filter.html", {
        "sub": sub, "form": form, "test_form": FilterTestForm(), "section": "access",
        "example_filter": EXAMPLE_FILTER}, status=form_status(form))


# ---------------------------------------------------------------------------------------------- overview

@portal_view
def access_view(request):
    """The 'Access' section: each team's service accounts and subscriptions on both sides."""
    user = request.user
    teams = list(teams_of(user).order_by("slug"))
    accounts = {}
    for account in service_accounts_visible_to(user).filter(team__in=teams).exclude(status="deleted"):
        accounts.setdefault(account.team_id, []).append(account)
    return render(request, "onboarding/subscription_list.html", {
        "section": "access", "teams": [(team, accounts.get(team.pk, [])) for team in teams],
        "subscriptions": subscriptions_of_teams(user, limit=200),
        "waiting": pending_approvals_for(user)[:50],
    })
