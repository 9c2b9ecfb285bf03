"""The gateway's copy of the grants table: read from the compacted topic at start, then followed in a thread.

Like the router's ``RulesTableReader`` it uses its own consumer without group membership (manual assignment,
nothing committed): every gateway replica must see every grant. Unlike the router, whose loop polls the rules
between batches, the gateway's requests are served by an event loop that must never block on Kafka, so a
daemon thread follows the topic and a tombstone (a revoked or expired token) takes effect within about one
poll interval.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from confluent_kafka import KafkaException
from django.conf import settings

from onboarding.gateway.grants import GrantsTable
from onboarding.platform.compacted import CompactedTableReader

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.2  # how long a revocation may wait for the next poll, at most (plus the broker's fetch time)


def default_grants_topic() -> str:
    # The one setting the access reconciler writes the grants to (portal/settings.py).
    return settings.GATEWAY_GRANTS_TOPIC


class GrantsReader:
    """Fills a GrantsTable from the grants topic: ``start()`` catches up, then a thread keeps following."""

    def __init__(self, *, topic: str, kafka_config: dict, table: GrantsTable | None = None):
        self.topic = topic
        self.table = table or GrantsTable()
        # A tombstone must arrive quickly: do not let the broker hold a fetch for its default 500 ms.
        extra = {"fetch.wait.max.ms": 100}
        if kafka_config.get("sasl.username"):
            # A group name under the principal's own prefix, which its ACLs cover (reconcile/gateway_acls.py).
            extra["group.id"] = f"{kafka_config['sasl.username']}.grants-{uuid.uuid4().hex}"
        self._reader = CompactedTableReader(topic, kafka_config, apply=self._apply, what="grants",
                                            extra_config=extra)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_poll = 0.0  # monotonic time of the last completed poll: the liveness probe's proof

    # ------------------------------------------------------------------------------------------- lifecycle
    def start(self, *, catch_up_timeout: float = 30.0) -> GrantsTable:
        """Read the whole table as of now (so no valid token is refused after start), then follow it."""
        self.catch_up(timeout=catch_up_timeout)
        self._thread = threading.Thread(target=self._follow, name="gateway-grants", daemon=True)
        self._thread.start()
        logger.info("gateway grants: %d grants from %s", len(self.table), self.topic)
        return self.table

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._reader.close()

    def catch_up(self, *, timeout: float = 30.0) -> None:
        """Read until the end of every partition as of now."""
        self._reader.catch_up(timeout)

    # -------------------------------------------------------------------------------------------- reading
    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume(POLL_SECONDS)
            except KafkaException:
                # A fatal consumer error: the table would silently go stale, so say so loudly and stop
                # following; the liveness probe (last_poll) then reports the process as dead.
                logger.exception("gateway grants: reader of %s stopped", self.topic)
                return

    def _consume(self, timeout: float) -> None:
        self._reader.consume(timeout)
        self.last_poll = time.monotonic()

    def _apply(self, message) -> bool:
        key = message.key()
        if key is None:
            logger.warning("grants record without key at %s@%s ignored", self.topic, message.offset())
            return False
        self.table.apply(key.decode("utf-8", errors="replace"), message.value())
        return True
