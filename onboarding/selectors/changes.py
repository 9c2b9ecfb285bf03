"""Change requests a user sees or must decide on."""

from __future__ import annotations

from onboarding.errors import NotFound
from onboarding.models import ChangeRequest, Membership
from onboarding.permissions import is_operator
from onboarding.selectors.teams import in_users_teams


def _change_requests():
    return ChangeRequest.objects.select_related("cluster", "team", "requested_by", "decided_by")


def change_requests_visible_to(user):
    """Operators see every request; team members (any role) see their teams' requests."""
    requests = _change_requests()
    return in_users_teams(user, requests)


def change_request_for(user, pk):
    """A request the user may see; anyone outside its team gets 'not found'."""
    change_request = change_requests_visible_to(user).filter(pk=pk).first()
    if change_request is None:
        raise NotFound("No such change request.")
    return change_request


def change_requests_awaiting(user):
    """Waiting requests the user may decide: not their own, and as the cluster's policy names approvers."""
    waiting = change_requests_visible_to(user).filter(status="pending").exclude(requested_by=user)
    if is_operator(user):
        return waiting
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("team_id")
    return waiting.filter(team_id__in=owned, cluster__change_policy__approvers="owners_or_operators")
