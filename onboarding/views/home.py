"""The dashboard: what waits for the viewer, what is wrong, their teams' activity, and a new team's first
steps. Every section comes from selectors/dashboard.py in a fixed number of queries."""

from __future__ import annotations

from django.shortcuts import render

from onboarding.choices import ResourceStatus
from onboarding.models import Membership
from onboarding.permissions import is_operator
from onboarding.selectors.dashboard import dashboard_for
from onboarding.views.common import portal_view


@portal_view
def home(request):
    user = request.user
    data = dashboard_for(user)
    roles = data["roles"]
    operator = is_operator(user)
    cards = []
    for team in data["teams"]:
        counts = data["counts"][team.pk]
        cards.append({
            "team": team,
            "role": Membership.Role(roles[team.pk]).label if team.pk in roles else ("Operator" if operator else ""),
            "can_write": operator or roles.get(team.pk) in (Membership.Role.OWNER, Membership.Role.MEMBER),
            "total": sum(counts.values()),
            # Every status in lifecycle order, so the badges line up from card to card.
            "statuses": [(value, label, counts[value]) for value, label in ResourceStatus.choices
                         if counts.get(value)],
        })
    mine = data["mine"]
    return render(request, "onboarding/home.html", {
        **data, "cards": cards, "section": "home",
        "can_create": any(card["can_write"] for card in cards),
        "any_waiting": bool(data["waiting"] or data["waiting_resets"] or data["waiting_changes"]),
        "any_mine": any(mine.values()),
        "any_wrong": bool(data["wrong"] or data["dead_letters"] or data["lagging"]),
    })

