"""Change-request helpers: a cluster policy that gates operations, and a second owner of payments."""

import pytest

from onboarding.models import Membership
from onboarding.services.changes import change_policy_for
from onboarding.services.teams import membership_set
from tests.fixtures.actors import _user


@pytest.fixture
def gated():
    """``gated(cluster, "topic.delete", ..., approvers=...)``: those operations now wait for approval."""

    def make(cluster, *operations, approvers="owners_or_operators", ttl_hours=72):
        policy = change_policy_for(cluster)
        policy.operations_needing_approval = list(operations)
        policy.approvers, policy.request_ttl_hours = approvers, ttl_hours
        policy.save()
        return policy

    return make


@pytest.fixture
def otto(payments):
    """A second owner of payments: the four-eyes partner of alice."""
    user = _user("otto")
    membership_set(actor=None, team=payments, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def api_as():
    """``api_as(user)``: a DRF client sending a fresh write-scoped bearer token of ``user``."""
    from rest_framework.test import APIClient

    from onboarding.models import ApiToken

    def make(user):
        _, plain = ApiToken.new(user=user, name="tests", scope=ApiToken.Scope.WRITE)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
        return client

    return make


@pytest.fixture
def client_for(db):
    """A logged-in Django test client for the given user."""
    from django.test import Client

    from tests.fixtures.actors import PASSWORD

    def make(user):
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return make
