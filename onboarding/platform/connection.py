"""Connection settings for one Kafka cluster and its registry.

Secrets are never stored in the database: a cluster record names the environment variables (or
files) that hold them, and they are resolved here, at connection time, in the worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from onboarding.platform.errors import PlatformError


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_location: str | None = None

    def client_config(self) -> dict:
        config = {"bootstrap.servers": self.bootstrap_servers, "security.protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL"):
            config.update({
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": self.sasl_username,
                "sasl.password": self.sasl_password,
            })
        if self.ssl_ca_location:
            config["ssl.ca.location"] = self.ssl_ca_location
        return config


@dataclass(frozen=True)
class RegistryConnection:
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def default_kafka_connection() -> KafkaConnection:
    """The admin connection configured for this deployment (settings KAFKA_*)."""
    return KafkaConnection(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
        security_protocol=settings.KAFKA_SECURITY_PROTOCOL,
        sasl_mechanism=settings.KAFKA_SASL_MECHANISM,
        sasl_username=settings.KAFKA_SASL_USERNAME,
        sasl_password=settings.KAFKA_SASL_PASSWORD,
        ssl_ca_location=settings.KAFKA_SSL_CA_LOCATION,
    )


def principal_kafka_connection(prefix: str, what: str) -> KafkaConnection:
    """A data-plane process's own principal on the cluster's SASL listener (settings ``<prefix>_KAFKA_*``), never
    the admin connection; ImproperlyConfigured when the deployment does not give the process one."""
    names = [f"{prefix}_KAFKA_{name}" for name in ("BOOTSTRAP_SERVERS", "USERNAME", "PASSWORD")]
    missing = [name for name in names if not getattr(settings, name)]
    if missing:
        raise ImproperlyConfigured(f"The {what} connects to Kafka as its own principal: set {', '.join(missing)}.")
    return KafkaConnection(
        bootstrap_servers=getattr(settings, f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"),
        security_protocol=getattr(settings, f"{prefix}_KAFKA_SECURITY_PROTOCOL"),
        sasl_mechanism=getattr(settings, f"{prefix}_KAFKA_SASL_MECHANISM"),
        sasl_username=getattr(settings, f"{prefix}_KAFKA_USERNAME"),
        sasl_password=getattr(settings, f"{prefix}_KAFKA_PASSWORD"),
        ssl_ca_location=settings.KAFKA_SSL_CA_LOCATION,
    )


def gateway_kafka_connection() -> KafkaConnection:
    """The event gateway's own principal (settings GATEWAY_KAFKA_*)."""
    return principal_kafka_connection("GATEWAY", "gateway")


def router_kafka_connection() -> KafkaConnection:
    """The router's own principal (settings ROUTER_KAFKA_*)."""
    return principal_kafka_connection("ROUTER", "router")


def mapper_kafka_connection() -> KafkaConnection:
    """The mapper's own principal (settings MAPPER_KAFKA_*)."""
    return principal_kafka_connection("MAPPER", "mapper")


def default_registry_connection() -> RegistryConnection:
    return RegistryConnection(
        url=settings.SCHEMA_REGISTRY_URL,
        username=settings.SCHEMA_REGISTRY_USERNAME,
        password=settings.SCHEMA_REGISTRY_PASSWORD,
    )


def resolve_secret(reference: str) -> str | None:
    """Read a secret named by reference: ``env:NAME`` or ``file:/path``. Empty means none."""
    if not reference:
        return None
    kind, _, target = reference.partition(":")
    if kind == "env":
        value = os.environ.get(target)
        if value is None:
            raise PlatformError(f"The environment variable {target} holding a cluster secret is not set.",
                                retryable=False, code="secret_missing")
        return value
    if kind == "file":
        try:
            return Path(target).read_text().strip()
        except OSError as exc:
            raise PlatformError(f"The secret file {target} cannot be read: {exc.strerror}.",
                                retryable=False, code="secret_missing") from None
    raise PlatformError(f"Secret reference {reference!r} must start with env: or file:.",
                        retryable=False, code="secret_reference")


def kafka_connection_for(cluster) -> KafkaConnection:
    """The admin connection of a Cluster record, its secrets resolved from their references."""
    return KafkaConnection(
        bootstrap_servers=cluster.bootstrap_servers,
        security_protocol=cluster.security_protocol,
        sasl_mechanism=cluster.sasl_mechanism or None,
        sasl_username=resolve_secret(cluster.sasl_username_ref),
        sasl_password=resolve_secret(cluster.sasl_password_ref),
        ssl_ca_location=cluster.ssl_ca_location or None,
    )


def registry_connection_for(cluster) -> RegistryConnection:
    return RegistryConnection(
        url=(cluster.registry_url or settings.SCHEMA_REGISTRY_URL).rstrip("/"),
        username=resolve_secret(cluster.registry_username_ref),
        password=resolve_secret(cluster.registry_password_ref),
    )
