"""Whether the router's loop advances, for the liveness probe on its metrics port (``/healthz``).

A router whose process is alive but whose loop is stuck (a blocked call, a transaction that never commits) holds
its partitions and routes nothing; only a restart helps, so the probe must see it. The loop notes each successful
poll and each committed transaction; the probe answers 503 when it owns partitions and neither happened for
``ROUTER_LIVENESS_SECONDS``, or when the loop reported itself stuck (batches aborted again and again). Without
partitions a router has nothing to advance: it is live while it polls.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

# Batches aborted in a row before the loop calls itself stuck (each abort rewinds and retries the batch).
STUCK_AFTER_ABORTS = 20


class Liveness:
    """``setting`` names the process's threshold in seconds (read at every probe, so tests may change it)."""

    def __init__(self, setting: str = "ROUTER_LIVENESS_SECONDS"):
        self.setting = setting
        self._lock = threading.Lock()
        self._progress = time.monotonic()
        self._assigned = 0
        self._aborts = 0

    def polled(self) -> None:
        """A poll returned (records or not): the loop is turning."""
        with self._lock:
            self._progress = time.monotonic()

    def committed(self) -> None:
        with self._lock:
            self._progress = time.monotonic()
            self._aborts = 0

    def aborted(self) -> None:
        with self._lock:
            self._aborts += 1

    def assigned(self, partitions: int) -> None:
        with self._lock:
            self._assigned = partitions
            self._progress = time.monotonic()  # a new assignment starts a fresh wait

    def problem(self, threshold: float | None = None) -> str | None:
        """Why the loop is not advancing, or None when it is."""
        threshold = getattr(settings, self.setting) if threshold is None else threshold
        with self._lock:
            idle = time.monotonic() - self._progress
            if self._aborts >= STUCK_AFTER_ABORTS:
                return f"{self._aborts} batches aborted in a row"
            if self._assigned and idle > threshold:
                return f"no poll or commit for {idle:.0f}s while owning {self._assigned} partitions"
        return None


# One router loop per process: the probe reads the same object the loop writes.
LIVENESS = Liveness()
