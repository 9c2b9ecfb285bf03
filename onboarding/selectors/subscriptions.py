"""Subscriptions a user sees or decides on."""

from __future__ import annotations

from django.db.models import Q

from onboarding.errors import NotFound
from onboarding.models import Membership, Subscription, Team
from onboarding.permissions import can_read_team, is_operator


def _subscriptions():
    return Subscription.objects.select_related("subscriber", "source__team", "source__cluster", "service_account",
                                               "destination", "requested_by", "decided_by")


def subscriptions_visible_to(user):
    """Subscriptions either side of which is one of the user's teams (operators see all)."""
    subscriptions = _subscriptions()
    if is_operator(user):
        return subscriptions
    teams = Membership.objects.filter(user=user).values("team_id")
    return subscriptions.filter(Q(subscriber_id__in=teams) | Q(source__team_id__in=teams))


def subscriptions_for_team(user, team: Team):
    """A team's subscriptions from both sides: what it subscribes to and who subscribes to its topics."""
    if not can_read_team(user, team):
        return _subscriptions().none()
    return _subscriptions().filter(Q(subscriber=team) | Q(source__team=team))


def pending_approvals_for(user):
    """Requests waiting for the user's decision: on topics of teams they own (all, for operators),
    except their own requests, which someone else must decide."""

    waiting = _subscriptions().filter(decision=Subscription.Decision.REQUESTED).exclude(requested_by=user)
    if is_operator(user):
        return waiting
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("team_id")
    return waiting.filter(source__team_id__in=owned)


def subscription_for(user, pk):
    """A subscription on either side of which the user is; anyone else gets 'not found'."""
    subscription = subscriptions_visible_to(user).filter(pk=pk).first()
    if subscription is None:
        raise NotFound("No such subscription.")
    return subscription
