"""Per-token rate limits of the gateway: a token bucket of records and one of requests per token key id.

The buckets live in the gateway process, so the limits are per replica: behind N replicas a token may reach
N times its limit. A bucket starts full (``burst``) and refills at ``rate`` per second. A request may take
more than is left when the bucket is not empty (a batch of 1000 records against a burst of 500): the bucket
goes into debt and the token waits until it is paid back, so a large batch is never refused forever and the
long-run rate still holds. A rate of 0 turns that limit off.

The clock is injected (``time.monotonic`` by default), so the logic is tested without sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

MAX_TRACKED_TOKENS = 10000  # buckets kept; full ones are dropped first (a fresh bucket is full anyway)


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; ``take(n)`` answers 0.0 (taken) or the seconds to wait."""

    def __init__(self, rate: float, burst: float, now: float):
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and a burst of at least 1")
        self.rate, self.burst = float(rate), float(burst)
        self.tokens, self.updated = self.burst, now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, n: float, now: float) -> float:
        self._refill(now)
        needed = min(n, self.burst)  # more than the burst is allowed from a full bucket, paid back as debt
        if self.tokens >= needed:
            self.tokens -= n
            return 0.0
        return (needed - self.tokens) / self.rate

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


@dataclass(frozen=True)
class Limits:
    records_per_second: float
    burst: float
    requests_per_second: float
    request_burst: float

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(records_per_second=settings.GATEWAY_TOKEN_RECORDS_PER_SECOND, burst=settings.GATEWAY_TOKEN_BURST,
                   requests_per_second=settings.GATEWAY_TOKEN_REQUESTS_PER_SECOND,
                   request_burst=settings.GATEWAY_TOKEN_REQUEST_BURST)


class RateLimiter:
    """The buckets of every token this replica has seen. Thread-safe (gRPC and REST share one loop, but a
    check may come from a worker thread)."""

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic,
                 max_tokens: int = MAX_TRACKED_TOKENS):
        self.limits, self.clock, self.max_tokens = limits, clock, max_tokens
        self._records: dict[str, TokenBucket] = {}
        self._requests: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> RateLimiter:
        return cls(Limits.from_settings())

    def request(self, key_id: str) -> float:
        """Take one request of ``key_id``'s bucket: 0.0, or the seconds until it may ask again."""
        return self._take(self._requests, key_id, 1, self.limits.requests_per_second, self.limits.request_burst)

    def records(self, key_id: str, n: int) -> float:
        """Take ``n`` records of ``key_id``'s bucket: 0.0, or the seconds until they may be sent."""
        return self._take(self._records, key_id, n, self.limits.records_per_second, self.limits.burst)

    def _take(self, buckets: dict[str, TokenBucket], key_id: str, n: float, rate: float, burst: float) -> float:
        if rate <= 0 or n <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            bucket = buckets.get(key_id)
            if bucket is None:
                if len(buckets) >= self.max_tokens:
                    self._forget(buckets, now)
                bucket = buckets[key_id] = TokenBucket(rate, max(1.0, burst), now)
            return bucket.take(n, now)

    def _forget(self, buckets: dict[str, TokenBucket], now: float) -> None:
        """Drop full buckets (nothing to remember); if none is full, the oldest half, so memory stays bounded."""
        full = [key for key, bucket in buckets.items() if bucket.full(now)]
        for key in full or list(buckets)[: max(1, len(buckets) // 2)]:
            del buckets[key]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` is whole seconds: rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))
