"""Webhooks and notification deliveries a user sees."""

from __future__ import annotations

from onboarding.errors import NotFound
from onboarding.models import NotificationDelivery, Webhook
from onboarding.selectors.teams import in_users_teams


def webhooks_visible_to(user):
    """Webhooks of the user's teams, any role (operators see all); secrets are never selected for display."""
    hooks = Webhook.objects.select_related("team", "created_by")
    return in_users_teams(user, hooks)


def webhook_for(user, pk):
    """A webhook of one of the user's teams; anyone else gets 'not found'."""
    hook = webhooks_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if hook is None:
        raise NotFound("No such webhook.")
    return hook


def deliveries_visible_to(user):
    """The notification log (webhooks and e-mail) of the user's teams (operators see all)."""
    rows = NotificationDelivery.objects.select_related("team", "webhook")
    return in_users_teams(user, rows)


# ---------------------------------------------------------------------------------------------- topic page
