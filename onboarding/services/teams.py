"""Teams and memberships.

A team that has an owner always keeps one: the last owner can be neither removed nor demoted, so
someone can always manage the team's members without an operator.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, Membership, Team
from onboarding.permissions import is_operator, is_team_owner
from onboarding.services.catalogue import catalogue_refresh_team

OWNER = Membership.Role.OWNER
MAX_EMAILS = 20


def team_create(*, actor, slug: str, name: str, description: str = "", contacts: str = "",
                notification_emails: list[str] | None = None, via: str = AuditEvent.Via.SYSTEM) -> Team:
    """A new team (operators only). Every problem with the fields comes back at once, by field."""
    if actor is not None and not is_operator(actor):
        raise PermissionDenied("Only platform operators create teams.")
    emails, email_problems = notification_emails_checked(notification_emails or [])
    with transaction.atomic():
        team = Team(slug=slug, name=name, description=description, contacts=contacts, notification_emails=emails)
        errors = {"notification_emails": email_problems} if email_problems else {}
        try:
            team.full_clean()
        except ValidationError as exc:
            errors = {**exc.message_dict, **errors}
        if errors:
            raise ValidationError(errors)
        team.save()
        audit_record(actor=actor, via=via, action="team.create", obj=team, team=team,
                     after={"slug": slug, "name": name, **({"notification_emails": emails} if emails else {})})
    return team


def team_update(*, actor, team: Team, via: str, name: str | None = None, description: str | None = None,
                contacts: str | None = None) -> Team:
    """Change a team's name, description or contacts (its owners and operators; None leaves a field alone).

    The slug never changes: it is part of every topic name the team owns (the policy's {team}).
    ``actor=None`` is the system itself (commands, seeds).
    """
    if actor is not None and not is_team_owner(actor, team):
        raise PermissionDenied("Only the team's owners or platform operators change the team.")
    with transaction.atomic():
        current = Team.objects.select_for_update(no_key=True).get(pk=team.pk)
        before, after = {}, {}
        for field, value in (("name", name), ("description", description), ("contacts", contacts)):
            if value is not None and value != getattr(current, field):
                before[field], after[field] = getattr(current, field), value
                setattr(current, field, value)
        if after:
            current.full_clean()
            current.save()
            audit_record(actor=actor, via=via, action="team.update", obj=current, team=current,
                         before=before, after=after)
            catalogue_refresh_team(current.pk)
    return current


def _owner_ids(team: Team, *, lock: bool = False) -> set[int]:
    owners = Membership.objects.filter(team=team, role=OWNER).order_by("pk")
    if lock:
        # Owners are locked first, in one order, by every membership change of the team: two
        # owners demoting each other at once cannot both succeed, and cannot deadlock.
        owners = owners.select_for_update(no_key=True)
    return set(owners.values_list("user_id", flat=True))


def last_owner_problem(*, team: Team, roles: dict, owner_ids: set[int] | None = None) -> str | None:
    """Why these planned changes would leave a team that has owners without one, or None.

    ``roles`` maps a user to their new role, None for a removal. Forms that change several members
    at once (the admin's inline) check them together with this, before calling the services.
    """
    owners = _owner_ids(team) if owner_ids is None else owner_ids
    if not owners:
        return None  # a new team, or one only operators manage: nothing to protect
    remaining = (owners - {user.pk for user in roles}) | {user.pk for user, role in roles.items() if role == OWNER}
    if remaining:
        return None
    leaving = ", ".join(sorted(user.get_username() for user in roles if user.pk in owners))
    return (f"{team.slug} must keep at least one owner: make someone else an owner before {leaving} "
            "stops being one.")


def membership_set(*, actor, team: Team, user, role: str, via: str = AuditEvent.Via.SYSTEM,
                   source: str = Membership.Source.MANUAL, note: str = "") -> Membership:
    """Add a person to a team or change their role (owners and operators only).

    The team's last owner cannot be demoted (ValidationError on ``role``). ``source`` records where the
    grant came from: single sign-on removes only the memberships it made itself.
    """
    if actor is not None and not is_team_owner(actor, team):
        raise PermissionDenied("Only the team's owners or platform operators manage its members.")
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"Select a valid choice. {role} is not one of the available choices."]})
    _refuse_automation_account(user)
    with transaction.atomic():
        owners = _owner_ids(team, lock=True)
        membership, created = Membership.objects.select_for_update(no_key=True).get_or_create(
            user=user, team=team, defaults={"role": role, "source": source})
        before = None if created else {"role": membership.role, "source": membership.source}
        if not created and (membership.role, membership.source) != (role, source):
            if problem := last_owner_problem(team=team, roles={user: role}, owner_ids=owners):
                raise ValidationError({"role": [problem]})
            membership.role, membership.source = role, source
            membership.full_clean()
            membership.save()
        audit_record(actor=actor, via=via, action="membership.set", obj=membership, team=team, before=before,
                     after={"user": user.get_username(), "role": role, "source": source}, note=note)
    return membership


def _refuse_automation_account(user) -> None:
    # Team tokens rely on their account's member role: it comes and goes with the team's tokens only.
    if Team.objects.filter(automation_user_id=user.pk).exists():
        raise ValidationError({"user": [f"{user.get_username()} is a team's automation account: its role is "
                                        "managed through the team's tokens."]})


def membership_remove(*, actor, membership: Membership, via: str, note: str = "") -> None:
    """Take a person out of a team (its owners and operators). Removing a membership that is already
    gone does nothing; the team's last owner cannot be removed (ValidationError)."""
    team = membership.team
    if actor is not None and not is_team_owner(actor, team):
        raise PermissionDenied("Only the team's owners or platform operators manage its members.")
    with transaction.atomic():
        owners = _owner_ids(team, lock=True)
        current = Membership.objects.select_for_update(no_key=True, of=("self",)).select_related("user").filter(
            pk=membership.pk).first()
        if current is None:
            return
        _refuse_automation_account(current.user)
        if problem := last_owner_problem(team=team, roles={current.user: None}, owner_ids=owners):
            raise ValidationError({"__all__": [problem]})
        audit_record(actor=actor, via=via, action="membership.remove", obj=current, team=team,
                     before={"user": current.user.get_username(), "role": current.role}, note=note)
        current.delete()


def notification_emails_checked(emails: list[str]) -> tuple[list[str], list[str]]:
    """The addresses trimmed, lower-cased and without repeats, and what is wrong with them."""
    cleaned = list(dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()))
    problems = []
    for address in cleaned:
        try:
            validate_email(address)
        except DjangoValidationError:
            problems.append(f"{address!r} is not a valid e-mail address.")
    if len(cleaned) > MAX_EMAILS:
        problems.append(f"At most {MAX_EMAILS} addresses; use a mailing list for more.")
    return cleaned, problems


def team_notification_emails_set(*, actor, team: Team, emails: list[str],
                                 via: str = AuditEvent.Via.SYSTEM) -> Team:
    """Replace the addresses that get an e-mail for every event of the team (owners and operators)."""
    if actor is not None and not is_team_owner(actor, team):
        raise PermissionDenied("Only the team's owners or platform operators change its notifications.")
    cleaned, problems = notification_emails_checked(emails)
    if problems:
        raise ValidationError({"notification_emails": problems})
    with transaction.atomic():
        current = Team.objects.select_for_update(no_key=True).get(pk=team.pk)
        before = list(current.notification_emails)
        if before != cleaned:
            current.notification_emails = cleaned
            current.save(update_fields=["notification_emails"])
            audit_record(actor=actor, via=via, action="team.notification_emails", obj=current, team=current,
                         before={"notification_emails": before}, after={"notification_emails": cleaned})
    return current
