"""Clients per actor for the webhook API and pages."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from onboarding.models import ApiToken
from tests.fixtures.actors import PASSWORD

WEBHOOKS = "/api/v1/webhooks/"


@pytest.fixture
def api_as():
    def make(user) -> APIClient:
        _, plain = ApiToken.new(user=user, name="tests", scope=ApiToken.Scope.WRITE)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
        return client

    return make


@pytest.fixture
def client_for(db):
    def make(user) -> Client:
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return make
