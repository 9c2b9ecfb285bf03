"""Teams and memberships."""

from __future__ import annotations

from django.db import transaction

from onboarding.models import AuditEvent, Membership, Team
from onboarding.services.access import is_operator, is_team_owner
from onboarding.services.audit import audit_record
from onboarding.services.errors import PermissionDenied


def team_create(*, actor, slug: str, name: str, description: str = "", contacts: str = "",
                via: str = AuditEvent.Via.SYSTEM) -> Team:
    if actor is not None and not is_operator(actor):
        raise PermissionDenied("Only platform operators create teams.")
    with transaction.atomic():
        team = Team(slug=slug, name=name, description=description, contacts=contacts)
        team.full_clean()
        team.save()
        audit_record(actor=actor, via=via, action="team.create", obj=team, team=team,
                     after={"slug": slug, "name": name})
    return team


def membership_set(*, actor, team: Team, user, role: str, via: str = AuditEvent.Via.SYSTEM) -> Membership:
    """Add a person to a team or change their role (owners and operators only)."""
    if actor is not None and not is_team_owner(actor, team):
        raise PermissionDenied("Only the team's owners or platform operators manage its members.")
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            user=user, team=team, defaults={"role": role})
        before = None if created else {"role": membership.role}
        if not created and membership.role != role:
            membership.role = role
            membership.full_clean()
            membership.save()
        audit_record(actor=actor, via=via, action="membership.set", obj=membership, team=team, before=before,
                     after={"user": user.get_username(), "role": role})
    return membership
