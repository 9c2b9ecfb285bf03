"""``Idempotency-Key``: a retried produce request is answered from its first answer, not produced twice.

A client that lost the answer to a POST cannot know whether its records were produced; sending the request again
with the same ``Idempotency-Key`` header is safe. The first request with a key claims it (a short lease, so a
crashed replica does not hold it for ever), produces, and stores its answer for GATEWAY_IDEMPOTENCY_TTL_SECONDS.
A later request with the same key, token and endpoint gets that answer again, marked ``Idempotent-Replayed:
true``. The store is Redis, shared by every replica (the gateway still never reads Postgres).

* The same key with a different body is a client error (422): the key names one request, not a slot to reuse.
* A request with the key still in progress (another replica, or a parallel retry) is answered 409 with
  Retry-After, rather than produced a second time.
* An answer that says "try again" (429 or 5xx) is not stored: the key is released so the retry is produced.
  A batch is stored as answered even when some of its entries failed for a transient reason: those entries are
  resent under a new key (their ids say which), because a replay must answer what happened.
* Redis unreachable: a request with a key is refused with 503 (nothing produced), because producing it without
  the store would break the promise the key makes; requests without a key do not touch Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
LEASE_SECONDS = 60  # a claimed key whose answer never came (the replica died) is free again after this
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII without spaces, as UUIDs and ULIDs are


class KeyProblem(Exception):
    """The header's value, or its use, is wrong; ``status`` and the message are the answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class StoreUnavailable(Exception):
    """Redis could not be asked; the request is not produced (503)."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: bytes
    headers: dict


@dataclass(frozen=True)
class Claim:
    """This request holds the key: produce, then ``IdempotencyStore.finish`` (or ``release``) it."""

    redis_key: str
    fingerprint: str


def check_key(raw: str) -> str:
    if not _KEY.fullmatch(raw):
        raise KeyProblem(400, f"{HEADER} is 1 to 255 printable ASCII characters without spaces (a UUID, say).")
    return raw


class IdempotencyStore:
    def __init__(self, redis_url: str, *, ttl_seconds: int):
        self._redis = aioredis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_settings(cls) -> IdempotencyStore:
        from django.conf import settings

        return cls(settings.GATEWAY_IDEMPOTENCY_REDIS_URL, ttl_seconds=settings.GATEWAY_IDEMPOTENCY_TTL_SECONDS)

    async def close(self) -> None:
        await self._redis.aclose()

    async def claim(self, *, key: str, scope: str, body: bytes) -> Claim | StoredAnswer:
        """Claim ``key`` for this request, or the answer stored for it; KeyProblem when it cannot be used."""
        redis_key = "gateway:idempotency:" + hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()
        fingerprint = hashlib.sha256(body).hexdigest()
        pending = json.dumps({"state": "pending", "fingerprint": fingerprint})
        try:
            if await self._redis.set(redis_key, pending, nx=True, ex=LEASE_SECONDS):
                return Claim(redis_key, fingerprint)
            raw = await self._redis.get(redis_key)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from None
        if raw is None:  # expired between the two calls: the caller may simply retry
            raise KeyProblem(409, f"The request with this {HEADER} just expired; send it again.")
        stored = json.loads(raw)
        if stored["fingerprint"] != fingerprint:
            raise KeyProblem(422, f"This {HEADER} was used for a different request body; a key names one "
                                  "request, so use a new key for a new request.")
        if stored["state"] == "pending":
            raise KeyProblem(409, f"A request with this {HEADER} is still being produced; retry shortly.")
        return StoredAnswer(stored["status"], stored["body"].encode("utf-8"), stored.get("headers", {}))

    async def finish(self, claim: Claim, *, status: int, body: bytes, headers: dict) -> None:
        """Store the answer, or release the key when the answer asks for a retry (429, 5xx)."""
        try:
            if status == 429 or status >= 500:
                await self._redis.delete(claim.redis_key)
                return
            answer = json.dumps({"state": "done", "fingerprint": claim.fingerprint, "status": status,
                                 "body": body.decode("utf-8"), "headers": headers})
            await self._redis.set(claim.redis_key, answer, ex=self.ttl_seconds)
        except RedisError as exc:
            # The records are produced and answered; a retry with this key after the lease would produce again.
            logger.warning("gateway: the answer of an idempotent request was not stored: %s", exc)

    async def release(self, claim: Claim) -> None:
        try:
            await self._redis.delete(claim.redis_key)
        except RedisError as exc:
            logger.warning("gateway: an idempotency key was not released (free again in %d s): %s",
                           LEASE_SECONDS, exc)
