"""Raw records turned into what a person may see: decoded key and value with sensitive fields masked, and
headers as text. Pure apart from the schema cache (which asks the registry for unknown writer schemas)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from onboarding.platform.kafka_peek import RawRecord
from onboarding.routing.decode import MAGIC_BYTE, DecodeError, SchemaCache, decode_value
from onboarding.schemas.masking import mask

HIDDEN = "[not shown: it could not be decoded and this side has sensitive fields]"
PREVIEW = 200


@dataclass
class PeekEvent:
    partition: int
    offset: int
    timestamp: dt.datetime | None
    key: object
    value: object
    headers: list[tuple[str, str | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def peek_event(record: RawRecord, schemas: SchemaCache, masked: dict[str, dict[str, str]]) -> PeekEvent:
    """``masked`` is side -> {path: classification}, for ``key`` and ``value``."""
    problems: list[str] = []
    key = _decoded(record.key, schemas, masked.get("key", {}), problems, "key", plain_text=True)
    value = _decoded(record.value, schemas, masked.get("value", {}), problems, "value", plain_text=False)
    stamp = dt.datetime.fromtimestamp(record.timestamp_ms / 1000, tz=dt.UTC) if record.timestamp_ms else None
    headers = [(name, raw.decode("utf-8", errors="replace") if raw is not None else None)
               for name, raw in record.headers]
    return PeekEvent(partition=record.partition, offset=record.offset, timestamp=stamp, key=key, value=value,
                     headers=headers, problems=problems)


def _decoded(raw: bytes | None, schemas: SchemaCache, tags: dict[str, str], problems: list[str], side: str, *,
             plain_text: bool):
    """The decoded side with its tags masked. Keys are often plain strings, not JSON: shown as text.

    What cannot be decoded is never shown when the side has sensitive fields: its bytes may hold them.
    """
    if raw is None:
        return None
    try:
        return mask(decode_value(raw, schemas), tags)
    except DecodeError as exc:
        if plain_text and not tags and raw[:1] != bytes([MAGIC_BYTE]):
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
        problems.append(f"The {side} cannot be decoded: {exc}")
        if tags:
            return HIDDEN
        return raw[:PREVIEW].decode("utf-8", errors="replace")
