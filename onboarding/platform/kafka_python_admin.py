"""kafka-python's admin client, for the protocol messages confluent-kafka's AdminClient does not offer (client
quotas, log directories). One place builds it from a KafkaConnection and turns its errors into PlatformError."""

from __future__ import annotations

import logging

import kafka.errors
from kafka.admin import KafkaAdminClient

from onboarding.platform.connection import KafkaConnection
from onboarding.platform.errors import PlatformError

# kafka-python logs every connect and close at INFO: one line per reconcile run is noise in the worker's log.
logging.getLogger("kafka").setLevel(logging.WARNING)


class KafkaPythonAdmin:
    """The base of the adapters that speak through kafka-python: one connection per use (a reconcile run, a drift
    check, a sample); close it, or use it as a context manager."""

    client_id = "portal"
    purpose = "the admin client"

    def __init__(self, connection: KafkaConnection, *, timeout: float = 10.0):
        self.timeout = timeout
        self._admin = open_admin(connection, timeout=timeout, client_id=self.client_id, purpose=self.purpose)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._admin.close()


def client_config(connection: KafkaConnection, timeout: float, client_id: str) -> dict:
    config = {"bootstrap_servers": connection.bootstrap_servers.split(","),
              "security_protocol": connection.security_protocol, "client_id": client_id,
              "request_timeout_ms": int(timeout * 1000), "bootstrap_timeout_ms": int(timeout * 1000)}
    if connection.security_protocol.startswith("SASL"):
        config.update(sasl_mechanism=connection.sasl_mechanism, sasl_plain_username=connection.sasl_username,
                      sasl_plain_password=connection.sasl_password)
    if connection.ssl_ca_location:
        config["ssl_cafile"] = connection.ssl_ca_location
    return config


def open_admin(connection: KafkaConnection, *, timeout: float, client_id: str, purpose: str) -> KafkaAdminClient:
    """A connected admin client. KafkaAdminClient starts its IO thread before it bootstraps and does not stop it
    when bootstrapping fails: built in two steps so that a cluster that cannot be reached leaves no thread behind
    in the worker."""
    admin = KafkaAdminClient.__new__(KafkaAdminClient)
    try:
        admin.__init__(**client_config(connection, timeout, client_id))
    except kafka.errors.KafkaError as exc:
        _stop_half_built(admin)
        raise PlatformError(f"Kafka connection for {purpose} failed: {exc}", retryable=True,
                            code=type(exc).__name__) from None
    return admin


def _stop_half_built(admin: KafkaAdminClient) -> None:
    client, net = getattr(admin, "_client", None), getattr(admin, "_net", None)
    if client is not None:
        client.close()
    if net is not None:
        net.stop()


def error_of(code: int, message: str | None, action: str) -> PlatformError | None:
    """A protocol error code as a PlatformError (None for no error), retryable as Kafka says."""
    if not code:
        return None
    kind = kafka.errors.for_code(code)
    return PlatformError(f"Kafka {action} failed: {message or kind.__name__}",
                         retryable=bool(getattr(kind, "retriable", False)), code=kind.__name__)


def failure(exc: kafka.errors.KafkaError, action: str) -> PlatformError:
    """A request that got no answer (timeout, connection lost): retryable."""
    return PlatformError(f"Kafka {action} failed: {exc}", retryable=True, code=type(exc).__name__)
