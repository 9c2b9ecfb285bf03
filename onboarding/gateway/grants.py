"""The gateway's grants table: who may publish and consume what, as rows of a compacted topic.

The access reconciler writes one row per team token (key ``token:<key id>``) from the portal's state; the
gateway reads the table and never reads Postgres. A revoked or expired token's row is a tombstone, so a
gateway stops accepting it as soon as it reads the tombstone. The token's secret is never in the table:
the row holds its SHA-256, as the portal's own token table does, and the gateway compares digests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field

TOKEN_PREFIX = "pep"
KEY_PREFIX = "token:"


@dataclass(frozen=True)
class Grant:
    key_id: str
    secret_sha256: str = field(repr=False)
    team: str
    principal: str  # what the audit trail names: ``pep_<key id>``
    scope: str  # "read" or "write"
    produce_prefixes: tuple[str, ...] = ()  # topic name prefixes the bearer may publish to
    consume_prefixes: tuple[str, ...] = ()  # topic name prefixes the bearer may read (its team's)
    consume_topics: tuple[str, ...] = ()  # exact topics it may read (approved direct subscriptions)
    group_prefix: str = ""  # every consumer group it names is forced under this prefix
    expires_at: float | None = None  # epoch seconds

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.key_id}"

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def decode(cls, raw: bytes) -> Grant:
        data = json.loads(raw)
        for name in ("produce_prefixes", "consume_prefixes", "consume_topics"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.time()) >= self.expires_at

    def may_produce(self, topic: str) -> bool:
        return self.scope == "write" and topic.startswith(self.produce_prefixes)

    def may_consume(self, topic: str) -> bool:
        return topic in self.consume_topics or topic.startswith(self.consume_prefixes)

    def group(self, requested: str) -> str:
        """The consumer group the gateway really uses: the caller's name forced under the team's prefix."""
        return requested if requested.startswith(self.group_prefix) else f"{self.group_prefix}{requested}"


def denial_reason(grant: Grant, action: str) -> str:
    """Why ``grant`` may not ``action`` ("produce", "consume") a topic: a read token never produces."""
    return "read_only" if action == "produce" and grant.scope != "write" else "not_granted"


def split_bearer(token: str) -> tuple[str, str] | None:
    """``pep_<key id>_<secret>`` -> (key id, secret); None when it is not shaped like a portal token."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not key_id or not secret:
        return None
    return key_id, secret


class GrantsTable:
    """Latest grant per key, as read from the compacted topic; tombstones and unreadable rows remove."""

    def __init__(self):
        self._grants: dict[str, Grant] = {}

    def apply(self, key: str, value: bytes | None) -> None:
        if value is None:
            self._grants.pop(key, None)
            return
        try:
            self._grants[key] = Grant.decode(value)
        except (ValueError, TypeError, KeyError):
            self._grants.pop(key, None)  # a row this gateway cannot read grants nothing

    def __len__(self) -> int:
        return len(self._grants)

    def all(self) -> list[Grant]:
        return list(self._grants.values())

    def authenticate(self, bearer: str, now: float | None = None) -> Grant | None:
        """The grant of a presented token, or None: unknown, wrong secret, expired or revoked alike."""
        return self.check(bearer, now)[0]

    def check(self, bearer: str, now: float | None = None) -> tuple[Grant | None, str]:
        """``authenticate`` with why a token is refused, for the gateway's metrics and audit (never for the
        caller): ``malformed_token``, ``unknown_token`` (never granted, or revoked), ``expired``, ``wrong_secret``;
        ``ok`` with the grant."""
        parts = split_bearer(bearer)
        if parts is None:
            return None, "malformed_token"
        grant = self._grants.get(f"{KEY_PREFIX}{parts[0]}")
        if grant is None:
            return None, "unknown_token"
        digest = hashlib.sha256(parts[1].encode("utf-8")).hexdigest()
        if not hmac.compare_digest(digest, grant.secret_sha256):
            return None, "wrong_secret"
        if grant.expired(now):
            return None, "expired"
        return grant, "ok"
