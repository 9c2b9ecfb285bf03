"""The gateway's grants table: who may publish and consume what, as rows of a compacted topic.

The access reconciler writes one row per team token (key ``token:<key id>``) and one per service account whose
credential is set on the table's cluster (key ``account:<username>``, the digest of its SCRAM password: the
account's own credentials, sent as HTTP Basic, work at the gateway too) from the portal's state; the gateway
reads the table and never reads Postgres. A revoked or expired token's row is a tombstone, so a
gateway stops accepting it as soon as it reads the tombstone. The token's secret is never in the table:
the row holds its SHA-256, as the portal's own token table does, and the gateway compares digests.

The same table holds one row per topic with sensitive fields (key ``topic:<name>``): the paths the gateway masks
in that topic's events on consume, with their classification, as the portal's peek masks them. A grant's
``clear_topics`` names the topics its bearer may read unmasked. The gateway looks both up at every event, so a
re-tagged field or a changed right applies to reads and streams already open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property

from onboarding.schemas.masking import Masker

TOKEN_PREFIX = "pep"
KEY_PREFIX = "token:"
ACCOUNT_KEY_PREFIX = "account:"
TOPIC_KEY_PREFIX = "topic:"
SIDES = ("key", "value")


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
    clear_topics: tuple[str, ...] = ()  # topics whose sensitive fields it may read unmasked
    kind: str = "token"  # or "account": a service account's SCRAM credentials (key_id is its username)

    @property
    def key(self) -> str:
        return f"{ACCOUNT_KEY_PREFIX if self.kind == 'account' else KEY_PREFIX}{self.key_id}"

    def encode(self) -> bytes:
        data = asdict(self)
        if not data["clear_topics"]:
            # Left out when empty: a row without the field keeps its bytes (no rewrite of every row) and stays
            # readable by gateways that do not know the field yet.
            del data["clear_topics"]
        if data["kind"] == "token":  # likewise: token rows keep the bytes they had before accounts had rows
            del data["kind"]
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def decode(cls, raw: bytes) -> Grant:
        data = json.loads(raw)
        for name in ("produce_prefixes", "consume_prefixes", "consume_topics", "clear_topics"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)

    def may_read_clear(self, topic: str) -> bool:
        return topic in self.clear_topics

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


@dataclass(frozen=True)
class TopicMasks:
    """What the gateway masks in one topic's events: per side (``key``, ``value``) the field paths
    (``onboarding.schemas.field_paths``) and their classification, which becomes the mark (``[PHI]``).

    ``hide_all``: the topic's row could not be read, so nothing of a key or value is shown.
    """

    topic: str
    key: Mapping[str, str] = field(default_factory=dict)
    value: Mapping[str, str] = field(default_factory=dict)
    hide_all: bool = False

    @property
    def row_key(self) -> str:
        return f"{TOPIC_KEY_PREFIX}{self.topic}"

    def side(self, name: str) -> Mapping[str, str]:
        return self.key if name == "key" else self.value

    @cached_property
    def maskers(self) -> dict[str, Masker]:
        """Per side, its paths prepared once per row rather than once per event."""
        return {side: Masker(self.side(side)) for side in SIDES}

    def __bool__(self) -> bool:
        return self.hide_all or bool(self.key) or bool(self.value)

    def encode(self) -> bytes:
        masks = {side: dict(sorted(self.side(side).items())) for side in SIDES if self.side(side)}
        return json.dumps({"topic": self.topic, "masks": masks}, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> TopicMasks:
        data = json.loads(raw)
        masks = data["masks"]
        sides = {side: _paths(masks.get(side) or {}) for side in SIDES}
        return cls(topic=str(data["topic"]), **sides)


def _paths(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValueError("a side's masks are a map of field path to classification")
    return dict(raw)


NO_MASKS = TopicMasks(topic="")


class TopicMasking:
    """What one bearer's read of one topic masks, asked at every event: the table is followed while a read or
    a stream runs, so a re-tag, an untag or a changed right applies from the next event on."""

    def __init__(self, table: GrantsTable, grant: Grant, topic: str):
        self._table, self._key, self.topic = table, grant.key, topic

    def current(self) -> TopicMasks:
        grant = self._table.grant(self._key)  # the grant as it is now (a revoked one reads nothing in clear)
        if grant is not None and grant.may_read_clear(self.topic):
            return NO_MASKS
        return self._table.masks(self.topic)


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
        self._masks: dict[str, TopicMasks] = {}  # topic name -> its masks; topics without a row mask nothing

    def apply(self, key: str, value: bytes | None) -> None:
        if key.startswith(TOPIC_KEY_PREFIX):
            self._apply_masks(key.removeprefix(TOPIC_KEY_PREFIX), value)
            return
        if value is None:
            self._grants.pop(key, None)
            return
        try:
            self._grants[key] = Grant.decode(value)
        except (ValueError, TypeError, KeyError):
            self._grants.pop(key, None)  # a row this gateway cannot read grants nothing

    def _apply_masks(self, topic: str, value: bytes | None) -> None:
        if value is None:
            self._masks.pop(topic, None)
            return
        try:
            self._masks[topic] = TopicMasks.decode(value)
        except (ValueError, TypeError, KeyError, AttributeError):
            # The topic has sensitive fields but which ones cannot be read: show nothing of its events rather
            # than everything.
            self._masks[topic] = TopicMasks(topic=topic, hide_all=True)

    def __len__(self) -> int:
        return len(self._grants)

    def all(self) -> list[Grant]:
        return list(self._grants.values())

    def grant(self, key: str) -> Grant | None:
        return self._grants.get(key)

    def masks(self, topic: str) -> TopicMasks:
        return self._masks.get(topic, NO_MASKS)

    def masking(self, grant: Grant, topic: str) -> TopicMasking:
        """What ``grant``'s reads of ``topic`` mask, followed live (consume.EventReader applies it)."""
        return TopicMasking(self, grant, topic)

    def authenticate(self, bearer: str, now: float | None = None) -> Grant | None:
        """The grant of a presented token, or None: unknown, wrong secret, expired or revoked alike."""
        return self.check(bearer, now)[0]

    def check_authorization(self, header: str) -> tuple[Grant | None, str]:
        """An ``Authorization`` value (HTTP header or gRPC metadata): ``Bearer <team token>`` or ``Basic
        <base64 of username:password>`` of a service account. The grant, or None and why (as ``check``)."""
        scheme, _, credentials = header.partition(" ")
        credentials = credentials.strip()
        if not credentials:
            return None, "missing_token"
        if scheme.lower() == "bearer":
            return self.check(credentials)
        if scheme.lower() != "basic":
            return None, "missing_token"
        try:
            username, colon, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return None, "malformed_token"
        return self.check_account(username, password) if colon and username else (None, "malformed_token")

    def check_account(self, username: str, password: str) -> tuple[Grant | None, str]:
        """A service account's username and password (HTTP Basic): its grant, or None and why (as ``check``)."""
        grant = self._grants.get(f"{ACCOUNT_KEY_PREFIX}{username}")
        if grant is None:
            return None, "unknown_account"
        digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
        if not hmac.compare_digest(digest, grant.secret_sha256):
            return None, "wrong_secret"
        return grant, "ok"

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
