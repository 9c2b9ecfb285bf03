"""Clients for the change-request surfaces: an API client with a real token and a logged-in browser client."""

import pytest


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
