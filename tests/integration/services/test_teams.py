"""team_update, membership_set and membership_remove: owners and operators only, and a team keeps an owner."""

import pytest
from django.contrib.auth import get_user_model

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, Membership, Team
from onboarding.services.teams import membership_remove, membership_set, team_create, team_update

pytestmark = pytest.mark.django_db
VIA = AuditEvent.Via.BROWSER
LAST_OWNER = "payments must keep at least one owner: make someone else an owner before alice stops being one."


def _fresh(user):
    """The same person without the roles cached on the object by earlier permission checks."""
    return get_user_model().objects.get(pk=user.pk)


def _membership(user, team):
    return Membership.objects.select_related("user", "team").get(user=user, team=team)


def _roles(team):
    return dict(Membership.objects.filter(team=team).values_list("user__username", "role"))


# ---------------------------------------------------------------------------------------------- team_update

@pytest.mark.parametrize("who", ["bob", "vera", "carol"])
def test_members_viewers_and_outsiders_cannot_change_the_team(request, payments, alice, who):
    with pytest.raises(PermissionDenied):
        team_update(actor=request.getfixturevalue(who), team=payments, via=VIA, name="Pay")
    assert Team.objects.get(pk=payments.pk).name == "Payments"
    assert not AuditEvent.objects.filter(action="team.update").exists()


@pytest.mark.parametrize("who", ["alice", "operator"])
def test_owners_and_operators_change_the_team_with_an_audit_record(request, payments, alice, who):
    actor = request.getfixturevalue(who)

    team = team_update(actor=actor, team=payments, via=VIA, name="Payments & billing", contacts="payments@example.org",
                       description="Money in, money out.")

    assert Team.objects.get(pk=payments.pk).name == team.name == "Payments & billing"
    event = AuditEvent.objects.get(action="team.update")
    assert (event.actor, event.via, event.team) == (actor, VIA, payments)
    # contacts did not change, so it is not in the record
    assert event.before == {"name": "Payments", "description": ""}
    assert event.after == {"name": "Payments & billing", "description": "Money in, money out."}


def test_the_slug_cannot_be_changed_and_an_invalid_name_is_refused(operator, payments):
    with pytest.raises(TypeError):
        team_update(actor=operator, team=payments, via=VIA, slug="billing")
    with pytest.raises(ValidationError) as refused:
        team_update(actor=operator, team=payments, via=VIA, name="x" * 121)
    assert "name" in refused.value.message_dict
    assert Team.objects.get(pk=payments.pk).slug == "payments"


# ---------------------------------------------------------------------------------------------- membership_set

def test_members_cannot_change_roles(payments, alice, bob, vera):
    with pytest.raises(PermissionDenied):
        membership_set(actor=bob, team=payments, user=vera, role=Membership.Role.OWNER, via=VIA)
    assert _roles(payments)["vera"] == "viewer"


def test_the_last_owner_cannot_be_demoted(payments, alice, bob):
    with pytest.raises(ValidationError) as refused:
        membership_set(actor=alice, team=payments, user=alice, role=Membership.Role.MEMBER, via=VIA)

    assert refused.value.message_dict == {"role": [LAST_OWNER]}
    assert _roles(payments)["alice"] == "owner"
    assert not AuditEvent.objects.filter(action="membership.set", via=VIA).exists()


def test_an_owner_can_step_down_once_there_is_another_owner(payments, alice, bob):
    membership_set(actor=alice, team=payments, user=bob, role=Membership.Role.OWNER, via=VIA)
    membership_set(actor=_fresh(alice), team=payments, user=alice, role=Membership.Role.MEMBER, via=VIA)

    assert _roles(payments) == {"alice": "member", "bob": "owner"}
    step_down = AuditEvent.objects.get(action="membership.set", via=VIA, after__user="alice")
    assert (step_down.before, step_down.after) == ({"role": "owner", "source": "manual"},
                                                   {"user": "alice", "role": "member", "source": "manual"})


# ---------------------------------------------------------------------------------------------- membership_remove

@pytest.mark.parametrize("who", ["bob", "vera", "carol"])
def test_members_viewers_and_outsiders_cannot_remove_anyone(request, payments, alice, bob, vera, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        membership_remove(actor=actor, membership=_membership(vera, payments), via=VIA)
    assert "vera" in _roles(payments)


@pytest.mark.parametrize("who", ["alice", "operator"])
def test_owners_and_operators_remove_a_member_with_an_audit_record(request, payments, alice, bob, who):
    actor = request.getfixturevalue(who)
    membership = _membership(bob, payments)

    membership_remove(actor=actor, membership=membership, via=VIA)

    assert _roles(payments) == {"alice": "owner"}
    event = AuditEvent.objects.get(action="membership.remove")
    assert (event.actor, event.via, event.team, event.resource_id) == (actor, VIA, payments, str(membership.pk))
    assert (event.before, event.after) == ({"user": "bob", "role": "member"}, None)


@pytest.mark.parametrize("who", ["alice", "operator"])
def test_the_last_owner_cannot_be_removed_even_by_an_operator(request, payments, alice, bob, who):
    with pytest.raises(ValidationError) as refused:
        membership_remove(actor=request.getfixturevalue(who), membership=_membership(alice, payments), via=VIA)

    assert refused.value.message_dict == {"__all__": [LAST_OWNER]}
    assert _roles(payments) == {"alice": "owner", "bob": "member"}
    assert not AuditEvent.objects.filter(action="membership.remove").exists()


def test_an_owner_can_leave_once_there_is_another_owner(payments, alice, carol, operator):
    membership_set(actor=operator, team=payments, user=carol, role=Membership.Role.OWNER, via=VIA)

    membership_remove(actor=alice, membership=_membership(alice, payments), via=VIA)

    assert _roles(payments) == {"carol": "owner"}


def test_removing_a_membership_that_is_already_gone_does_nothing(payments, alice, bob):
    membership = _membership(bob, payments)
    membership_remove(actor=alice, membership=membership, via=VIA)

    membership_remove(actor=alice, membership=membership, via=VIA)

    assert AuditEvent.objects.filter(action="membership.remove").count() == 1


def test_a_team_without_owners_has_no_owner_to_protect(operator):
    team = team_create(actor=operator, slug="logistics", name="Logistics")
    dora = get_user_model().objects.create_user("dora")
    membership_set(actor=operator, team=team, user=dora, role=Membership.Role.VIEWER, via=VIA)

    membership_remove(actor=operator, membership=_membership(dora, team), via=VIA)

    assert not Membership.objects.filter(team=team).exists()
