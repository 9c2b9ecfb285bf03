"""A data-plane process's own Kafka principal at start: wait until the reconciler has provisioned it.

The router connects as ``ROUTER_KAFKA_USERNAME`` (``platform.connection.router_kafka_connection``) and creates
nothing itself: its principal may not create topics. A router started before the access run has set the
principal's credential and ACLs and created the rules topic cannot read its rules yet: it retries, saying why it
waits, and gives up after ``timeout`` seconds (as the gateway does, ``gateway.principal``). The mapper starts
the same way, waiting for its mappings table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from confluent_kafka import KafkaException

logger = logging.getLogger(__name__)
RETRY_SECONDS = 2.0


class NotProvisioned(Exception):
    """The principal could not read its table within the time given."""


def start_when_provisioned(make_router: Callable[[], object], *, timeout: float, username: str,
                           attempt_timeout: float = 10.0, what: str = "router", table: str = "rules topic"):
    """A started process (``make_router()``, then its ``start``: every existing row of its table read), once its
    principal may read the table; ``what`` and ``table`` name them in the messages."""
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
                raise NotProvisioned(f"the {what} principal {username} cannot read its {table} after "
                                     f"{timeout:.0f}s: {reason}") from None
            logger.warning("%s: waiting for the reconciler to provision principal %s (%s)", what, username, reason)
            time.sleep(RETRY_SECONDS)
