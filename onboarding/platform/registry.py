"""The Schema Registry through its Confluent-compatible REST API, behind PlatformError.

Only the Confluent contract is used, so Confluent Schema Registry, Apicurio (ccompat), Karapace
or Redpanda all work.
"""

from __future__ import annotations

import requests

from onboarding.platform.connection import RegistryConnection, default_registry_connection
from onboarding.platform.errors import PlatformError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class Registry:
    def __init__(self, connection: RegistryConnection | None = None, *, timeout: float = 10.0):
        self.connection = connection or default_registry_connection()
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE})
        if self.connection.username:
            self.session.auth = (self.connection.username, self.connection.password)

    def request(self, method: str, path: str, **kwargs):
        url = f"{self.connection.url}{path}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise PlatformError(f"Schema Registry unreachable: {exc.__class__.__name__}", retryable=True,
                                code="unreachable") from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response.json() if response.content else None

    def ping(self) -> None:
        self.request("GET", "/subjects")


def _error_from(response) -> PlatformError:
    try:
        body = response.json()
        message, code = body.get("message", response.text), str(body.get("error_code", response.status_code))
    except ValueError:
        message, code = response.text[:200], str(response.status_code)
    retryable = response.status_code >= 500 or response.status_code == 429
    return PlatformError(f"Schema Registry answered {response.status_code}: {message}", retryable=retryable,
                         code=code)
