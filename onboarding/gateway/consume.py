"""The gateway's REST consume side: stateless reads by signed cursor, explicit commits, and an SSE follower.

Nothing is kept between calls, so any replica serves any call and no call needs a sticky session:

* every read opens a short-lived consumer that ``assign()``\\ s its partitions (no group membership, so no
  rebalance) at the cursor's offsets, or the group's committed offsets, or the beginning, reads with
  ``read_committed`` and closes without committing. A lost response loses nothing: the caller reads again with
  the cursor it holds and gets the same records;
* a commit writes a cursor's offsets to the (team-prefixed) group, as any Kafka consumer of the group would;
* a follower (``EventReader.follow``) is one such consumer that keeps reading, in a thread of its own: the SSE
  stream (sse.py) and gRPC Consume (grpc_consume.py) hand its events to their clients.

Values are decoded with ``onboarding.routing.decode`` (the router's and peek's decoder). Each event's value is
typed, as REST Proxy v3's records are: ``{"type": "AVRO" | "JSONSCHEMA", "schema_id": n, "data": <JSON>}`` for
the registry's wire format, ``{"type": "JSON", "data": ...}`` for plain JSON, and ``{"type": "BINARY", "data":
<base64>, "undecoded": <why>}`` for anything else; null for a tombstone. Keys are ``{"type": "STRING", "data":
<text>}`` when they are UTF-8, else BINARY (base64); header values are base64, as on the produce side.

Sensitive fields are masked here, in the decoding every consume path shares (REST pages, SSE, gRPC): a read or
a follow takes the caller's ``grants.TopicMasking`` (required, so no path can forget it) and asks it at every
event, so a field tagged in the portal is replaced by its classification (``[PHI]``, by
``onboarding.schemas.masking``, as peek shows it) unless the caller's grant may read the topic in clear. A
tagged side that cannot be decoded is not shown at all (``{"type": "MASKED", "reason": ...}``): its bytes may
hold the sensitive fields. A key is decoded like a value only when its side is tagged; else it stays as above.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import logging
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from django.conf import settings

from onboarding.gateway import cursor as cursors
from onboarding.gateway.grants import TopicMasking, TopicMasks
from onboarding.platform.connection import default_kafka_connection, default_registry_connection
from onboarding.platform.registry import Registry
from onboarding.routing.decode import MAGIC_BYTE, DecodeError, SchemaCache, decode_value

logger = logging.getLogger(__name__)

DEFAULT_MAX_EVENTS = 100
MAX_EVENTS = 1000
MAX_WAIT_MS = 30000
CATCH_UP_SECONDS = 5.0  # how long a read may take to fetch records already there, however short its wait_ms
KAFKA_TIMEOUT = 10.0  # metadata, committed offsets, watermarks, commits
READ_THREADS = 64  # reads running at once (long polls included); more wait for a thread

CONSUMER_DEFAULTS = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "isolation.level": "read_committed",
    "auto.offset.reset": "earliest",  # a position deleted by retention continues at the oldest record
    "enable.partition.eof": True,  # the end of a partition (its last stable offset) is an event: "caught up"
    "fetch.wait.max.ms": 100,
}


class ConsumeUnavailable(Exception):
    """Kafka (or the registry) did not answer: the caller may retry the same call, nothing was lost."""


class CommitRefused(Exception):
    """Kafka refused the commit (for example: the group has live members of a native consumer)."""


@dataclass
class Page:
    events: list[dict]
    offsets: dict[int, int]  # the next offset of every partition after these events


class EventReader:
    """Reads, commits and follows; one per process, shared by all requests (it keeps no per-caller state)."""

    def __init__(self, *, kafka_config: dict, schemas: SchemaCache, key: bytes):
        self.kafka_config = kafka_config
        self.schemas = schemas
        self.key = key
        self.executor = concurrent.futures.ThreadPoolExecutor(READ_THREADS, thread_name_prefix="gateway-consume")

    @classmethod
    def from_settings(cls) -> EventReader:
        return cls(kafka_config=default_kafka_connection().client_config(),
                   schemas=SchemaCache(Registry.shared(default_registry_connection())),
                   key=cursors.cursor_key(settings.GATEWAY_CURSOR_SECRET, settings.SECRET_KEY))

    async def run(self, function: Callable, *args):
        """``function(*args)`` in the reader's own threads: long polls never take the produce path's threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    # ---------------------------------------------------------------------------------------------- cursors
    def cursor(self, topic: str, group: str, offsets: dict[int, int]) -> str:
        return cursors.sign(self.key, topic=topic, group=group, offsets=offsets)

    def offsets(self, cursor: str, *, topic: str, group: str) -> dict[int, int]:
        """The cursor's offsets; cursor.CursorError when it is not this gateway's cursor of this topic and group."""
        return cursors.verify(self.key, cursor, topic=topic, group=group)

    # ------------------------------------------------------------------------------------------------ reads
    def partitions(self, topic: str) -> list[int] | None:
        """The topic's partitions, or None when it does not exist."""
        with self._consumer(f"portal-gateway-meta-{uuid.uuid4().hex}") as consumer:
            return _partitions(consumer, topic)

    def read(self, topic: str, group: str, given: dict[int, int] | None, *, max_events: int,
             wait_ms: int, masking: TopicMasking) -> Page | None:
        """Up to ``max_events`` events from the position (None when the topic does not exist); never commits.

        Returns as soon as it holds ``max_events``, or has read to the end of every partition and holds some,
        or ``wait_ms`` passed (at most CATCH_UP_SECONDS more to read what was already there).
        """
        started = time.monotonic()
        wait_until = started + wait_ms / 1000
        give_up = started + max(wait_ms / 1000, CATCH_UP_SECONDS)
        with self._consumer(group) as consumer:
            position = _Position.open(consumer, topic, group, given)
            if position is None:
                return None
            events: list[dict] = []
            while len(events) < max_events:
                now = time.monotonic()
                if position.caught_up() and (events or now >= wait_until):
                    break
                if now >= give_up:
                    break
                limit = wait_until if position.caught_up() else give_up
                for message in position.poll(max_events - len(events), max(0.0, min(0.2, limit - now))):
                    events.append(self.event(message, masking.current()))
            return Page(events, dict(position.offsets))

    def commit(self, topic: str, group: str, offsets: dict[int, int]) -> dict[int, int] | None:
        """Commit ``offsets`` for ``group`` (only the topic's existing partitions); None when there is no topic."""
        with self._consumer(group) as consumer:
            partitions = _partitions(consumer, topic)
            if partitions is None:
                return None
            chosen = {p: o for p, o in offsets.items() if p in partitions}
            if not chosen:
                return {}
            try:
                answer = consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in sorted(chosen.items())],
                                         asynchronous=False)
            except KafkaException as exc:
                raise _commit_failure(exc.args[0]) from None
            for part in answer or ():
                if part.error is not None:
                    raise _commit_failure(part.error)
            return chosen

    def follow(self, topic: str, group: str, given: dict[int, int] | None, stop: threading.Event,
               emit: Callable[[dict, dict[int, int]], bool], room: Callable[[], int] | None = None, *,
               masking: TopicMasking) -> None:
        """Hand every event, with the offsets after it, to ``emit`` until ``stop`` is set or ``emit`` says no;
        each is masked as ``masking`` says when it is read.

        ``room`` (gRPC Consume's credits) is asked before each read how many events ``emit`` may take now (it
        may wait a little for more); none are read while it answers 0, so a caller holds no more than that."""
        with self._consumer(group) as consumer:
            position = _Position.open(consumer, topic, group, given)
            if position is None:
                return
            while not stop.is_set():
                count = 100 if room is None else min(100, room())
                if count <= 0:
                    continue
                for message in position.poll(count, 0.5):
                    if not emit(self.event(message, masking.current()), dict(position.offsets)):
                        return

    def event(self, message, masks: TopicMasks) -> dict:
        """One record as the API shows it, ``masks`` applied to its decoded key and value."""
        kind, timestamp = message.timestamp()
        raw_key, raw_value = message.key(), message.value()
        if masks.hide_all:
            shown_key = None if raw_key is None else _hidden(UNREADABLE_MASKS)
            shown_value = None if raw_value is None else _hidden(UNREADABLE_MASKS)
        else:
            shown_key = self._value(raw_key, masks, "key") if masks.key else _key(raw_key)
            shown_value = self._value(raw_value, masks, "value")
        return {"partition": message.partition(), "offset": message.offset(),
                "timestamp": _iso(timestamp) if kind != 0 else None, "key": shown_key, "value": shown_value,
                "headers": [{"name": name, "value": None if value is None else _b64(value)}
                            for name, value in message.headers() or ()]}

    def _value(self, raw: bytes | None, masks: TopicMasks, side: str) -> dict | None:
        """A decoded side, typed, with its tagged paths masked."""
        if raw is None:
            return None
        try:
            data = decode_value(raw, self.schemas)  # a registry that cannot be reached raises PlatformError
        except DecodeError as exc:
            if masks.side(side):  # not even why: a decoder's message may quote the bytes
                return _hidden("it cannot be decoded and has sensitive fields")
            return {"type": "BINARY", "data": _b64(raw), "undecoded": str(exc)}
        data = masks.maskers[side].mask_own(data)  # freshly decoded: masked without a copy
        if raw[0] != MAGIC_BYTE:
            return {"type": "JSON", "data": data}
        schema_id = struct.unpack_from(">I", raw, 1)[0]
        kind = self.schemas.get(schema_id).schema_type
        return {"type": "JSONSCHEMA" if kind == "JSON" else kind, "schema_id": schema_id, "data": data}

    # ------------------------------------------------------------------------------------------- consumers
    def _consumer(self, group: str) -> _Closing:
        # The group id is the caller's (team-prefixed) group: committed offsets are read and written there.
        # assign() never joins it, so reading does not disturb the group's other consumers.
        return _Closing(Consumer({**self.kafka_config, **CONSUMER_DEFAULTS, "group.id": group}))


class _Closing:
    def __init__(self, consumer: Consumer):
        self.consumer = consumer

    def __enter__(self) -> Consumer:
        return self.consumer

    def __exit__(self, *exc) -> None:
        try:
            self.consumer.close()
        except (KafkaException, RuntimeError):
            logger.warning("gateway consume: closing a consumer failed", exc_info=True)


class _Position:
    """One assigned consumer's next offset per partition, advanced by what it hands out, and which partitions
    it has read to their end."""

    def __init__(self, consumer: Consumer, topic: str, offsets: dict[int, int]):
        self.consumer, self.topic, self.offsets = consumer, topic, offsets
        self.ended: set[int] = set()

    @classmethod
    def open(cls, consumer: Consumer, topic: str, group: str, given: dict[int, int] | None) -> _Position | None:
        partitions = _partitions(consumer, topic)
        if partitions is None:
            return None
        offsets = {p: o for p, o in (given or {}).items() if p in partitions}
        missing = [p for p in partitions if p not in offsets]
        if missing:
            try:
                committed = consumer.committed([TopicPartition(topic, p) for p in missing], timeout=KAFKA_TIMEOUT)
                for part in committed:
                    if part.offset >= 0:
                        offsets[part.partition] = part.offset
                for p in missing:  # never committed: from the beginning (what the topic still holds)
                    if p not in offsets:
                        offsets[p] = consumer.get_watermark_offsets(TopicPartition(topic, p),
                                                                    timeout=KAFKA_TIMEOUT)[0]
            except KafkaException as exc:
                raise ConsumeUnavailable(f"Kafka did not answer for group {group}: {exc}") from None
        consumer.assign([TopicPartition(topic, p, offsets.get(p, OFFSET_BEGINNING)) for p in partitions])
        return cls(consumer, topic, offsets)

    def caught_up(self) -> bool:
        return len(self.ended) >= len(self.offsets)

    def poll(self, count: int, timeout: float):
        """Records (at most ``count``) as they come, each advancing its partition's offset before it is yielded."""
        try:
            messages = self.consumer.consume(num_messages=count, timeout=timeout)
        except KafkaException as exc:
            raise ConsumeUnavailable(f"Kafka did not answer: {exc}") from None
        for message in messages:
            error = message.error()
            if error is None:
                self.offsets[message.partition()] = message.offset() + 1
                self.ended.discard(message.partition())
                yield message
            elif error.code() == KafkaError._PARTITION_EOF:
                # The end as read_committed sees it; past transaction markers, so the cursor moves past them too.
                self.offsets[message.partition()] = max(self.offsets.get(message.partition(), 0), message.offset())
                self.ended.add(message.partition())
            elif error.fatal() or error.code() in _REFUSED:
                raise ConsumeUnavailable(f"Kafka: {error.str()}")
            else:
                logger.warning("gateway consume of %s: %s", self.topic, error.str())


_REFUSED = (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED)


def _partitions(consumer: Consumer, topic: str) -> list[int] | None:
    try:
        metadata = consumer.list_topics(topic, timeout=KAFKA_TIMEOUT)
    except KafkaException as exc:
        raise ConsumeUnavailable(f"Kafka metadata is unavailable: {exc}") from None
    found = metadata.topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        return None
    return sorted(found.partitions)


def _commit_failure(error: KafkaError) -> Exception:
    if error.retriable() or error.code() in (KafkaError._TRANSPORT, KafkaError._TIMED_OUT):
        return ConsumeUnavailable(f"Kafka did not take the commit: {error.str()}")
    return CommitRefused(error.str())


# ------------------------------------------------------------------------------------------------- helpers
UNREADABLE_MASKS = "this gateway cannot read which fields of the topic are sensitive"


def _hidden(reason: str) -> dict:
    return {"type": "MASKED", "reason": f"not shown: {reason}"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(raw: bytes | None) -> dict | None:
    if raw is None:
        return None
    try:
        return {"type": "STRING", "data": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"type": "BINARY", "data": _b64(raw)}


def _iso(timestamp_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(timestamp_ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
