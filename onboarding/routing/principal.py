"""The router's own Kafka principal at start: wait until the access reconciler has provisioned it.

The router connects as ``ROUTER_KAFKA_USERNAME`` (``platform.connection.router_kafka_connection``) and creates
nothing itself: its principal may not create topics. A router started before the access run has set the
principal's credential and ACLs and created the rules topic cannot read its rules yet: it retries, saying why it
waits, and gives up after ``timeout`` seconds (as the gateway does, ``gateway.principal``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from confluent_kafka import KafkaException

from onboarding.routing.router import Router

logger = logging.getLogger(__name__)
RETRY_SECONDS = 2.0


class NotProvisioned(Exception):
    """The principal could not read the rules topic within the time given."""


def start_when_provisioned(make_router: Callable[[], Router], *, timeout: float, username: str,
                           attempt_timeout: float = 10.0) -> Router:
    """A started router (every existing rule read), once its principal may read the rules topic."""
    deadline = time.monotonic() + timeout
    while True:
        router = make_router()
        try:
            router.start(catch_up_timeout=min(attempt_timeout, max(1.0, deadline - time.monotonic())))
            return router
        except (KafkaException, RuntimeError, TimeoutError) as exc:
            router.close()
            reason = exc.args[0].str() if isinstance(exc, KafkaException) and exc.args else str(exc)
            if time.monotonic() + RETRY_SECONDS >= deadline:
                raise NotProvisioned(f"the router principal {username} cannot read its rules topic after "
                                     f"{timeout:.0f}s: {reason}") from None
            logger.warning("router: waiting for the access run to provision principal %s (%s)", username, reason)
            time.sleep(RETRY_SECONDS)
