"""Signed consume cursors: where a reader of one topic, in one consumer group, is, partition by partition.

A cursor is ``<payload>.<signature>``, both base64url without padding: the payload is the JSON document
``{"topic": ..., "group": ..., "offsets": {"<partition>": <next offset>}}`` and the signature its HMAC-SHA256
with the gateway's cursor key. Every replica holds the same key, so any replica continues any caller's read;
a caller cannot move its cursor (or forge one for another topic or group) without the key. Pure: no I/O, no
settings (``cursor_key`` derives the key from what the caller passes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

MAX_CURSOR_CHARS = 64 * 1024  # a cursor of a topic with thousands of partitions is still far below this
_PURPOSE = b"onboarding.gateway.cursor.v1"


class CursorError(ValueError):
    """The cursor is malformed, tampered with, or for another topic or group."""


def cursor_key(secret: str, fallback: str) -> bytes:
    """The signing key: ``secret`` (GATEWAY_CURSOR_SECRET) when set, else one derived from ``fallback`` (Django's
    SECRET_KEY) with a purpose label, so the cursor key is never the secret key itself."""
    if secret:
        return hashlib.sha256(_PURPOSE + b"\0" + secret.encode("utf-8")).digest()
    if not fallback:
        raise ValueError("a cursor key needs GATEWAY_CURSOR_SECRET or a SECRET_KEY")
    return hmac.new(fallback.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


def sign(key: bytes, *, topic: str, group: str, offsets: dict[int, int]) -> str:
    payload = json.dumps({"topic": topic, "group": group,
                          "offsets": {str(p): int(o) for p, o in sorted(offsets.items())}},
                         separators=(",", ":"), sort_keys=True).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def verify(key: bytes, cursor: str, *, topic: str, group: str) -> dict[int, int]:
    """The cursor's offsets by partition; CursorError unless ``key`` signed it for this topic and group."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise CursorError("not a cursor")
    encoded, dot, signature = cursor.partition(".")
    if not dot:
        raise CursorError("not a cursor: no signature")
    try:
        payload, given = _unb64(encoded), _unb64(signature)
    except (binascii.Error, ValueError):
        raise CursorError("not a cursor: not base64url") from None
    if not hmac.compare_digest(given, _mac(key, payload)):
        raise CursorError("the cursor's signature does not match: it was altered or not issued by this gateway")
    try:
        document = json.loads(payload)
        offsets = {int(p): int(o) for p, o in document["offsets"].items()}
        cursor_topic, cursor_group = document["topic"], document["group"]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise CursorError("the cursor's content is not readable") from None
    if cursor_topic != topic:
        raise CursorError(f"the cursor is for topic {cursor_topic!r}, not {topic!r}")
    if cursor_group != group:
        raise CursorError(f"the cursor is for consumer group {cursor_group!r}, not {group!r}")
    if any(p < 0 or o < 0 for p, o in offsets.items()):
        raise CursorError("the cursor holds a negative partition or offset")
    return offsets


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
