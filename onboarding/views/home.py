"""The dashboard: the user's teams, what their topics are doing, and what needs attention."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count
from django.shortcuts import render

from onboarding.models import Membership, ResourceStatus, Topic
from onboarding.permissions import can_write_team, is_operator
from onboarding.selectors import pending_approvals_for, teams_of
from onboarding.views.common import portal_view
from onboarding.views.subscriptions import subscriptions_of_teams

ATTENTION = (ResourceStatus.FAILED, ResourceStatus.DRIFTED)


@portal_view
def home(request):
    user = request.user
    teams = list(teams_of(user))
    roles = {m.team_id: m.get_role_display() for m in Membership.objects.filter(user=user)}
    live = Topic.objects.filter(team__in=teams).exclude(status=ResourceStatus.DELETED)
    counts: dict[int, Counter] = {team.pk: Counter() for team in teams}
    for row in live.values("team_id", "status").annotate(n=Count("id")).order_by():
        counts[row["team_id"]][row["status"]] = row["n"]

    cards = [{
        "team": team,
        "role": roles.get(team.pk) or ("Operator" if is_operator(user) else ""),
        "can_write": can_write_team(user, team),
        "total": sum(counts[team.pk].values()),
        # Every status in lifecycle order, so the badges line up from card to card.
        "statuses": [(value, label, counts[team.pk][value]) for value, label in ResourceStatus.choices
                     if counts[team.pk][value]],
    } for team in teams]
    attention = live.filter(status__in=ATTENTION).select_related("team", "cluster").order_by("-updated_at")[:10]
    return render(request, "onboarding/home.html", {
        "cards": cards, "attention": attention, "section": "home",
        "can_create": any(card["can_write"] for card in cards),
        "waiting": pending_approvals_for(user)[:20],
        "subscriptions": subscriptions_of_teams(user, limit=20),
    })
