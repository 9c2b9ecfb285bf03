"""Service accounts a user sees."""

from __future__ import annotations

from onboarding.errors import NotFound
from onboarding.models import ServiceAccount
from onboarding.selectors.teams import in_users_teams


def service_accounts_visible_to(user):
    """Service accounts of the user's teams (operators see all)."""
    accounts = ServiceAccount.objects.select_related("team", "cluster")
    return in_users_teams(user, accounts)


def service_account_for(user, pk):
    account = service_accounts_visible_to(user).filter(pk=pk).first()
    if account is None:
        raise NotFound("No such service account.")
    return account
