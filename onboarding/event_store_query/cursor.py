"""Signed page cursors: where the next page of one query starts (keyset on the sort field's value and the id).

Like the gateway's consume cursors, a cursor is opaque and signed (HMAC-SHA256, through Django's signing with a
purpose salt, so the key is never the secret key itself): a caller cannot move it, and it is bound to the topic and
the query's fingerprint (filter, time range, order), so a cursor of one query is refused by another. Pure apart
from the key the caller passes.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing

SALT = "onboarding.event_store_query.cursor.v1"
MAX_CURSOR_CHARS = 4096


class CursorError(ValueError):
    """The cursor is malformed, altered, or belongs to another topic or query."""


def sign(key: str, *, topic_id: int, fingerprint: str, sort_value, document_id) -> str:
    return signing.dumps({"t": topic_id, "q": fingerprint, "v": _encode(sort_value), "i": document_id},
                         key=key, salt=SALT, compress=True)


def verify(key: str, cursor: str, *, topic_id: int, fingerprint: str) -> tuple[object, object]:
    """(sort value, document id) after which the next page starts; CursorError unless it is this query's."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise CursorError("Not a cursor: pass the cursor of the previous page as it was returned.")
    try:
        payload = signing.loads(cursor, key=key, salt=SALT)
    except signing.BadSignature:
        raise CursorError("The cursor was altered or not issued by this portal.") from None
    if not isinstance(payload, dict) or payload.get("t") != topic_id:
        raise CursorError("The cursor belongs to another topic.")
    if payload.get("q") != fingerprint:
        raise CursorError("The cursor belongs to another query: keep the filter, time range and sort of the page "
                          "it came from, or start again without a cursor.")
    return _decode(payload.get("v")), payload.get("i")


def _encode(value):
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return {"$date": stamp.isoformat()}
    return value


def _decode(value):
    if isinstance(value, dict) and set(value) == {"$date"}:
        moment = dt.datetime.fromisoformat(value["$date"])
        # The store keeps naive UTC; compare with what it holds.
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return value
