"""API tokens: visible without their hash, revocable, never created in the admin."""

import pytest
from django.urls import reverse

from onboarding.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(alice):
    token, _ = ApiToken.new(user=alice, name="ci pipeline")
    return token


def test_the_hash_is_never_shown(operator_client, token):
    for url in (reverse("admin:onboarding_apitoken_changelist"),
                reverse("admin:onboarding_apitoken_change", args=[token.pk])):
        response = operator_client.get(url)
        assert response.status_code == 200
        assert token.key_id.encode() in response.content
        assert token.key_hash.encode() not in response.content


def test_revoke_sets_revoked_at_and_is_audited(operator_client, operator, token):
    response = operator_client.post(reverse("admin:onboarding_apitoken_changelist"),
                                    {"action": "revoke", "_selected_action": [token.pk]})

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.is_usable
    event = AuditEvent.objects.get(action="apitoken.revoke")
    assert (event.via, event.actor, event.after["key_id"]) == (AuditEvent.Via.ADMIN, operator, token.key_id)


def test_tokens_are_not_added_or_edited_in_the_admin(operator_client, token):
    assert operator_client.get(reverse("admin:onboarding_apitoken_add")).status_code == 403
    response = operator_client.post(reverse("admin:onboarding_apitoken_change", args=[token.pk]),
                                    {"name": "renamed", "key_hash": "0" * 64})
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.name == "ci pipeline"
