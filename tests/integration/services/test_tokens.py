"""token_create and token_revoke: for oneself or by an operator, audited without the secret, revoked once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import ApiToken, AuditEvent
from onboarding.services.tokens import token_create, token_revoke

pytestmark = pytest.mark.django_db
VIA = AuditEvent.Via.BROWSER


@pytest.fixture
def alices_token(alice):
    token, _ = token_create(actor=alice, user=alice, name="payments CI", scope=ApiToken.Scope.WRITE, via=VIA)
    return token


@pytest.mark.parametrize("who", ["alice", "operator"])
def test_a_person_makes_their_own_token_and_an_operator_anyones(request, alice, who):
    actor = request.getfixturevalue(who)

    token, plain = token_create(actor=actor, user=alice, name=" payments CI ", scope=ApiToken.Scope.READ, via=VIA)

    assert plain.startswith(f"pep_{token.key_id}_")
    assert token.key_hash == ApiToken.hash(plain.split("_", 2)[2])
    assert (token.user, token.name, token.scope) == (alice, "payments CI", "read")
    event = AuditEvent.objects.get(action="apitoken.create")
    assert (event.actor, event.via, event.resource_id) == (actor, VIA, str(token.pk))
    assert event.after["key_id"] == token.key_id and event.after["user"] == "alice"
    assert token.key_hash not in str(event.after) and plain not in str(event.after)


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_nobody_else_makes_a_token_for_someone(request, alice, who):
    with pytest.raises(PermissionDenied):
        token_create(actor=request.getfixturevalue(who), user=alice, name="sneaky", scope="write", via=VIA)
    assert not ApiToken.objects.exists()


def test_bad_input_is_refused_field_by_field(operator, alice):
    alice.is_active = False
    alice.save()

    with pytest.raises(ValidationError) as refused:
        token_create(actor=operator, user=alice, name="  ", scope="admin", expires_at=timezone.now(), via=VIA)

    assert set(refused.value.message_dict) == {"user", "name", "scope", "expires_at"}
    assert not ApiToken.objects.exists() and not AuditEvent.objects.filter(action="apitoken.create").exists()


def test_the_command_creates_through_the_service_as_the_system(alice):
    call_command("create_api_token", "alice", "--name", "nightly", stdout=StringIO(), stderr=StringIO())

    event = AuditEvent.objects.get(action="apitoken.create")
    assert (event.actor, event.actor_name, event.via) == (None, "system", AuditEvent.Via.SYSTEM)
    assert event.after["name"] == "nightly"


@pytest.mark.parametrize("who", ["alice", "operator"])
def test_the_owner_or_an_operator_revokes_a_token_with_an_audit_record(request, alices_token, who):
    actor = request.getfixturevalue(who)

    assert token_revoke(actor=actor, token=alices_token, via=VIA) is True

    alices_token.refresh_from_db()
    assert alices_token.revoked_at is not None and not alices_token.is_usable
    event = AuditEvent.objects.get(action="apitoken.revoke")
    assert (event.actor, event.via) == (actor, VIA)
    assert event.before["revoked_at"] is None
    assert event.after["revoked_at"] == alices_token.revoked_at.isoformat()


@pytest.mark.parametrize("who", ["bob", "vera", "carol"])
def test_nobody_else_revokes_a_token(request, alices_token, who):
    with pytest.raises(PermissionDenied):
        token_revoke(actor=request.getfixturevalue(who), token=alices_token, via=VIA)
    alices_token.refresh_from_db()
    assert alices_token.revoked_at is None


def test_revoking_twice_keeps_the_first_date_and_one_audit_record(operator, alices_token):
    assert token_revoke(actor=operator, token=alices_token, via=VIA) is True
    first = ApiToken.objects.get(pk=alices_token.pk).revoked_at

    assert token_revoke(actor=operator, token=alices_token, via=VIA) is False
    assert token_revoke(actor=operator, token=ApiToken.objects.get(pk=alices_token.pk), via=VIA) is False

    assert ApiToken.objects.get(pk=alices_token.pk).revoked_at == first
    assert AuditEvent.objects.filter(action="apitoken.revoke").count() == 1


def test_the_token_of_a_disabled_account_can_still_be_revoked(operator, alice, alices_token):
    get_user_model().objects.filter(pk=alice.pk).update(is_active=False)
    assert token_revoke(actor=operator, token=alices_token, via=VIA) is True
