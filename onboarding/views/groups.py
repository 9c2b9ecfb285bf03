"""Consumer groups in the browser: a team's groups (a fragment on the team page), the group page (members,
partitions, offsets, lag, the lag plot, "Reset offsets" with an htmx dry run then apply), deciding on a reset
of one's topic or withdrawing one's own while it waits, and the lag plots of the topic and subscription pages
(fragments loaded after the page)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.forms.groups import OffsetResetForm
from onboarding.models import AuditEvent, ChangeRequest, Cluster, OffsetReset, Team
from onboarding.permissions import can_read_team, can_write_team, is_team_owner
from onboarding.platform.errors import PlatformError
from onboarding.selectors import subscription_for, topic_for
from onboarding.selectors.groups import (
    chart,
    group_detail,
    group_lag_history,
    group_resets,
    resets_waiting_on_topic,
    subscription_lag_chart,
    team_groups,
    topic_lag_history,
)
from onboarding.services.groups import (
    offset_reset_approve,
    offset_reset_dry_run,
    offset_reset_reject,
    offset_reset_request,
    offset_reset_withdraw,
    readable_group_team,
)
from onboarding.views.changes import to_change_request
from onboarding.views.common import after_post, form_status, portal_view, show_refusal

BROWSER = AuditEvent.Via.BROWSER


@portal_view
def team_groups_fragment(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    if not can_read_team(request.user, team):
        raise NotFound("No such team.")
    clusters = []
    for cluster in Cluster.objects.order_by("order", "name"):
        try:
            clusters.append({"cluster": cluster, "groups": team_groups(team, cluster), "error": ""})
        except PlatformError as exc:
            clusters.append({"cluster": cluster, "groups": [], "error": str(exc)})
    return render(request, "groups/_team_groups.html", {"team": team, "clusters": clusters,
                                                        "any_groups": any(c["groups"] for c in clusters)})


def _cluster(name: str) -> Cluster:
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise NotFound("No such cluster.")
    return cluster


@portal_view
def group_page(request, cluster: str, group_id: str):
    cluster = _cluster(cluster)
    team = readable_group_team(request.user, group_id)
    can_reset = can_write_team(request.user, team)
    form = OffsetResetForm(team=team, cluster=cluster) if can_reset else None
    return _render_group(request, cluster, team, group_id, form)


def _render_group(request, cluster, team, group_id, form, *, status=200):
    try:
        detail, kafka_error = group_detail(cluster, group_id), ""
    except PlatformError as exc:
        detail, kafka_error = None, str(exc)
    return render(request, "groups/group_detail.html", {
        "cluster": cluster, "team": team, "group_id": group_id, "detail": detail, "kafka_error": kafka_error,
        "lag": chart(group_lag_history(cluster, group_id)), "form": form, "resets": group_resets(cluster, group_id),
        "section": "teams"}, status=status)


@portal_view
@require_POST
def group_reset(request, cluster: str, group_id: str):
    """``dry_run`` answers the plan (the htmx fragment under the form); ``apply`` asks for the reset."""
    cluster = _cluster(cluster)
    team = readable_group_team(request.user, group_id)
    if not can_write_team(request.user, team):
        raise PermissionDenied("Only owners and members of the group's team can reset its offsets.")
    form = OffsetResetForm(request.POST, team=team, cluster=cluster)
    dry_run = "apply" not in request.POST
    if form.is_valid():
        topic, reset_request = form.cleaned_data["topic"], form.reset_request()
        try:
            if dry_run:
                plan = offset_reset_dry_run(actor=request.user, cluster=cluster, group_id=group_id, topic=topic,
                                            request=reset_request)
                return render(request, "groups/_reset_plan.html", {"plan": plan, "form": form})
            result = offset_reset_request(actor=request.user, cluster=cluster, group_id=group_id, topic=topic,
                                          request=reset_request, reason=form.cleaned_data["reason"], via=BROWSER)
        except ValidationError as exc:
            form.add_service_errors({("__all__" if key == "group" else key): texts
                                     for key, texts in exc.message_dict.items()})
        else:
            if isinstance(result, ChangeRequest):
                return to_change_request(request, result)
            _announce(request, result)
            return after_post(request, reverse("onboarding:group_detail", args=[cluster.name, group_id]))
    if request.htmx:
        # The fragment under the form, errors beside their fields: htmx swaps only 2xx answers, as the other
        # validators of the portal answer theirs.
        return render(request, "groups/_reset_plan.html", {"plan": None, "form": form})
    return _render_group(request, cluster, team, group_id, form, status=form_status(form))


def _announce(request, reset: OffsetReset) -> None:
    if reset.status == OffsetReset.Status.APPLIED:
        messages.success(request, f"Reset {reset.group_id} on {reset.topic.name} to {reset.describe_target()}.")
    elif reset.status == OffsetReset.Status.REQUESTED:
        messages.info(request, f"{reset.topic.team.slug} owns {reset.topic.name}: the reset waits for one of its "
                               "owners.")
    else:
        messages.error(request, f"Kafka refused the reset: {reset.error}")


RESET_ACTIONS = {"approve": offset_reset_approve, "reject": offset_reset_reject, "withdraw": offset_reset_withdraw}
RESET_DONE = {"reject": "Rejected the reset.", "withdraw": "Withdrew the reset: nothing changed."}


@portal_view
@require_POST
def reset_decide(request, pk: int, decision: str):
    reset = get_object_or_404(OffsetReset.objects.select_related("topic__team", "cluster"), pk=pk)
    if not (is_team_owner(request.user, reset.topic.team) or can_read_team(request.user, reset.team)):
        raise NotFound("No such reset.")
    service = RESET_ACTIONS.get(decision)
    if service is None:
        raise NotFound("No such action.")
    # A decision takes the decider's comment; a withdrawal (the requester's) takes none.
    comment = {} if decision == "withdraw" else {"comment": request.POST.get("comment", "")}
    try:
        result = service(actor=request.user, reset=reset, via=BROWSER, **comment)
    except (PermissionDenied, ValidationError) as exc:
        # As a change request's page does: the refusal is a message on the page the button was on.
        show_refusal(request, exc)
    else:
        if decision == "approve":
            _announce(request, result)
        else:
            messages.info(request, RESET_DONE[decision])
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("onboarding:topic_detail", args=[reset.topic_id])  # never somewhere outside the portal
    return after_post(request, back)


@portal_view
def topic_lag_fragment(request, pk: int):
    """The topic page's plot: every reader's lag for the topic's team, one's own teams' groups for others."""
    topic = topic_for(request.user, pk)
    insider = can_read_team(request.user, topic.team)
    history = topic_lag_history(topic)
    if not insider:
        prefixes = tuple(f"{slug}." for slug in Team.objects.filter(memberships__user=request.user)
                         .values_list("slug", flat=True))
        history = {group: points for group, points in history.items() if prefixes and group.startswith(prefixes)}
    waiting = resets_waiting_on_topic(topic) if is_team_owner(request.user, topic.team) else []
    return render(request, "groups/_lag_plot.html", {
        "lag": chart(history), "title": f"Consumer lag on {topic.name}", "waiting": waiting,
        "back": reverse("onboarding:topic_detail", args=[topic.pk])})


@portal_view
def subscription_lag_fragment(request, pk: int):
    sub = subscription_for(request.user, pk)
    return render(request, "groups/_lag_plot.html", {
        "lag": subscription_lag_chart(sub), "title": f"Lag of {sub.subscriber.slug}'s groups"})
