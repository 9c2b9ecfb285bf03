"""The gateway's own Kafka principal at start: wait until the access reconciler has provisioned it.

The gateway connects as ``GATEWAY_KAFKA_USERNAME`` on the cluster's SASL listener (``platform.connection.
gateway_kafka_connection``), and the access reconciler sets that principal's SCRAM credential and ACLs. A
gateway started before the first access run (a fresh deployment, a renamed principal) cannot authenticate or
read its grants yet, and it creates nothing itself (its principal may not create topics): it retries reading
its grants topic until the run has caught up, saying why it waits, and gives up after ``timeout`` seconds.
"""

from __future__ import annotations

import logging
import time

from confluent_kafka import KafkaException
from django.conf import settings

from onboarding.gateway.consume import EventReader
from onboarding.gateway.cursor import cursor_key
from onboarding.gateway.table import GrantsReader
from onboarding.platform.connection import default_registry_connection
from onboarding.platform.registry import Registry
from onboarding.routing.decode import SchemaCache

logger = logging.getLogger(__name__)
RETRY_SECONDS = 2.0


class NotProvisioned(Exception):
    """The principal could not read its grants topic within the time given."""


def start_grants_reader(topic: str, kafka_config: dict, *, timeout: float, attempt_timeout: float = 10.0,
                        username: str = "") -> GrantsReader:
    """A started GrantsReader (every existing grant read), once the principal may read ``topic``."""
    deadline = time.monotonic() + timeout
    while True:
        reader = GrantsReader(topic=topic, kafka_config=kafka_config)
        try:
            reader.start(catch_up_timeout=min(attempt_timeout, max(1.0, deadline - time.monotonic())))
            return reader
        except (KafkaException, RuntimeError, TimeoutError) as exc:
            reader.stop()
            reason = exc.args[0].str() if isinstance(exc, KafkaException) and exc.args else str(exc)
            if time.monotonic() + RETRY_SECONDS >= deadline:
                raise NotProvisioned(f"the gateway principal {username or '(unnamed)'} cannot read its grants "
                                     f"topic {topic} after {timeout:.0f}s: {reason}") from None
            logger.warning("gateway: waiting for the access run to provision principal %s on %s (%s)",
                           username, topic, reason)
            time.sleep(RETRY_SECONDS)


def event_reader(kafka_config: dict) -> EventReader:
    """The consume side as the principal of ``kafka_config`` (``EventReader.from_settings`` is the admin's)."""
    return EventReader(kafka_config=kafka_config, schemas=SchemaCache(Registry.shared(default_registry_connection())),
                       key=cursor_key(settings.GATEWAY_CURSOR_SECRET, settings.SECRET_KEY))
