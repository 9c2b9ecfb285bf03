"""gRPC ``Consume``: a bidirectional stream that reads a topic for a team's consumer group, paced by credits.

The client's first request opens the stream (topic, group, optional cursor) and grants credits; later requests
grant more and acknowledge cursors. It reads through the REST consume side's EventReader (``follow``, ``commit``,
the same decoding, masking of sensitive fields and cursors), so both APIs hand out the same events and positions:

* a follower thread per stream runs ``EventReader.follow`` with ``room`` = the credits left: it reads no more
  events than it may send, and none while no credit is left (its consumer also prefetches little, PREFETCH), so
  a slow client never makes the gateway buffer more than that client's credits;
* every event goes out with the signed cursor after it; an acknowledged cursor is committed for the group;
* the events and acknowledgements go to the client through one queue, in the order they happened.

``CreditWindow`` counts, per stream, the credits left and the events held (read from Kafka and not yet written
to the client); HELD_EVENTS sums them over the process's streams, and ``open_windows()`` shows each stream's.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import copy
import datetime as dt
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable

from google.rpc import code_pb2, status_pb2
from prometheus_client import Gauge

from onboarding.gateway import consume, metrics
from onboarding.gateway.cursor import CursorError
from onboarding.gateway.grants import Grant, TopicMasking
from onboarding.gateway.grpc_records import invalid, status
from onboarding.platform.errors import PlatformError

logger = logging.getLogger(__name__)

MAX_CREDITS = consume.MAX_EVENTS  # credits granted and not yet used, per stream (1000)
MAX_GROUP_CHARS = 200
ROOM_WAIT_SECONDS = 0.5  # how long the follower waits for a credit before it checks whether to stop
# librdkafka prefetches up to 64 MB per consumer by default, whatever the client's credits: a stream's consumer
# keeps at most about 1 MB (plus one fetch) ahead, so a stalled client costs the gateway little.
PREFETCH = {"queued.max.messages.kbytes": 1024, "queued.min.messages": 1000}

HELD_EVENTS = Gauge("portal_gateway_grpc_consume_held_events",
                    "Events gRPC Consume streams have read from Kafka and not yet written to their clients.")
_windows: set[CreditWindow] = set()
_windows_lock = threading.Lock()


class CreditWindow:
    """One stream's credits (granted, not yet used) and held events (read, not yet written); thread-safe."""

    def __init__(self, *, topic: str, group: str, credits: int):
        self.topic, self.group = topic, group
        self.credits = credits
        self.held = 0
        self.peak_held = 0  # the most events this stream ever held at once
        self.granted = credits  # every credit granted, the first ones included
        self.sent = 0
        self.starved = 0  # how often the follower found no credit and waited
        self.closed = False
        self._changed = threading.Condition()

    def grant(self, credits: int) -> None:
        """Add credits; ValueError when more than MAX_CREDITS would be granted and not yet used."""
        with self._changed:
            if self.credits + self.held + credits > MAX_CREDITS:
                raise ValueError(f"at most {MAX_CREDITS} credits may be granted and not yet used; "
                                 f"{self.credits + self.held} are")
            self.credits += credits
            self.granted += credits
            self._changed.notify_all()

    def room(self, timeout: float = ROOM_WAIT_SECONDS) -> int:
        """The credits left, waiting up to ``timeout`` for one when there is none (the follower's ``room``)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.credits > 0, timeout):
                self.starved += 1
            return self.credits

    def take(self) -> bool:
        """An event read from Kafka uses a credit and is held until written; False once the stream ended."""
        with self._changed:
            if self.closed:
                return False
            self.credits -= 1
            self.held += 1
            self.peak_held = max(self.peak_held, self.held)
        HELD_EVENTS.inc()
        return True

    def written(self) -> None:
        with self._changed:
            self.held -= 1
            self.sent += 1
        HELD_EVENTS.dec()

    def release(self) -> None:
        """The stream ended: what it still held is dropped."""
        with self._changed:
            self.closed = True
            dropped, self.held = self.held, 0
        HELD_EVENTS.dec(dropped)

    def drained(self) -> bool:
        with self._changed:
            return self.credits == 0 and self.held == 0


def open_windows() -> list[CreditWindow]:
    """The credit windows of the streams open in this process."""
    with _windows_lock:
        return list(_windows)


def stream_reader(reader: consume.EventReader) -> consume.EventReader:
    """The reader with consumers that prefetch little (PREFETCH); its threads, schemas and key are shared."""
    paced = copy.copy(reader)
    paced.kafka_config = {**reader.kafka_config, **PREFETCH}
    return paced


class Refused(Exception):
    """The stream ends with this google.rpc.Status."""

    def __init__(self, answer: status_pb2.Status):
        super().__init__(answer.message)
        self.status = answer


_STOPPED = object()
_CLIENT_DONE = object()


async def consume_stream(reader: consume.EventReader, pb2, requests: AsyncIterator, *, grant: Grant,
                         authenticate: Callable[[], Grant | None], authorise: Callable[[str], bool],
                         masking: Callable[[Grant, str], TopicMasking]) -> AsyncIterator:
    """The responses of one Consume call (``pb2``: the generated gateway_pb2); raises Refused to end it.

    ``grant``: the call's, checked by the caller; ``authenticate``: the token's grant now, or None (asked again
    at every request); ``authorise``: whether the grant may consume a topic; ``masking``: what a grant's reads
    of a topic mask.
    """
    first = await anext(aiter(requests), None)
    if first is None:
        return
    if not first.HasField("open"):
        raise Refused(invalid({"open": ["the first request opens the stream: set open.topic and open.group"]},
                              message="The first request must open the stream"))
    topic, group, given = await _opened(reader, grant, authorise, first.open)
    window = CreditWindow(topic=topic, group=group, credits=0)
    _grant(window, first.credits)
    loop = asyncio.get_running_loop()
    out: asyncio.Queue = asyncio.Queue()  # events (at most the credits) and acknowledgements, in order
    stop = threading.Event()

    def offer(item) -> bool:
        """From the follower thread: hand ``item`` to the loop; False when the stream is over."""
        try:
            loop.call_soon_threadsafe(out.put_nowait, item)
        except RuntimeError:  # the loop is closed
            return False
        return not stop.is_set()

    def emit(event: dict, offsets: dict[int, int]) -> bool:
        return window.take() and offer((event, offsets))

    def follow() -> None:
        try:
            reader.follow(topic, group, given, stop, emit, room=window.room, masking=masking(grant, topic))
        except Exception as exc:  # noqa: BLE001 - ends the call with UNAVAILABLE, the client resumes by cursor
            logger.warning("gateway gRPC Consume of %s stopped: %s", topic, exc)
            offer(exc)
        finally:
            offer(_STOPPED)

    async def read_requests() -> None:
        try:
            if first.ack:
                out.put_nowait(await _acknowledge(reader, pb2, topic, group, first.ack))
            async for request in requests:
                _authenticated(authenticate)  # at every request: a revoked token ends the stream within seconds
                if request.HasField("open"):
                    raise Refused(invalid({"open": ["only the first request opens the stream"]},
                                          message="The stream is already open"))
                _grant(window, request.credits)
                if request.ack:
                    out.put_nowait(await _acknowledge(reader, pb2, topic, group, request.ack))
            out.put_nowait(_CLIENT_DONE)
        except Refused as exc:
            out.put_nowait(exc)
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-stream: the sending side ends with the call
            logger.debug("gateway gRPC Consume: reading requests stopped", exc_info=True)

    with _windows_lock:
        _windows.add(window)
    follower = threading.Thread(target=follow, name=f"gateway-grpc-consume-{topic}", daemon=True)
    follower.start()
    requests_task = asyncio.ensure_future(read_requests())
    client_done = False
    try:
        while True:
            if client_done and window.drained():
                return  # the client can grant no more credits, and every granted one was used
            item = await out.get()
            if item is _CLIENT_DONE:
                client_done = True
            elif item is _STOPPED:
                return
            elif isinstance(item, Refused):
                raise item
            elif isinstance(item, Exception):
                raise Refused(status(code_pb2.UNAVAILABLE, f"Kafka or the schema registry is unavailable: {item}"))
            elif isinstance(item, tuple):
                event, offsets = item
                yield pb2.ConsumeResponse(event=_event(pb2, event, reader.cursor(topic, group, offsets)))
                window.written()
                metrics.consumed(topic, "grpc")
            else:
                yield pb2.ConsumeResponse(acknowledgement=item)
    finally:
        stop.set()
        requests_task.cancel()
        window.release()
        with _windows_lock:
            _windows.discard(window)


# --------------------------------------------------------------------------------------------- the requests
_UNAUTHENTICATED = ("a valid team token (metadata authorization: Bearer pep_…) or a service account's "
                    "credentials (authorization: Basic) are required")


def _authenticated(authenticate: Callable[[], Grant | None]) -> Grant:
    grant = authenticate()
    if grant is None:  # one answer for unknown, wrong, expired and revoked tokens
        raise Refused(status(code_pb2.UNAUTHENTICATED, _UNAUTHENTICATED))
    return grant


async def _opened(reader: consume.EventReader, grant: Grant, authorise: Callable[[str], bool],
                  opening) -> tuple[str, str, dict[int, int] | None]:
    """(topic, the team-prefixed group, the cursor's offsets): INVALID_ARGUMENT, PERMISSION_DENIED before
    NOT_FOUND (who may not read a topic learns nothing of it), as REST consume answers."""
    topic, requested = opening.topic, opening.group.strip()
    if not topic:
        raise Refused(invalid({"open.topic": ["the topic to consume is required"]}, message="No topic given"))
    if not authorise(topic):
        raise Refused(status(code_pb2.PERMISSION_DENIED,
                             f"Token {grant.principal} of team {grant.team} may not consume from {topic}."))
    if not requested or len(opening.group) > MAX_GROUP_CHARS:
        raise Refused(invalid({"open.group": [f"a group name of 1 to {MAX_GROUP_CHARS} characters"]},
                              message="A consumer group name is required"))
    group = grant.group(requested)
    given = None
    if opening.cursor:
        given = _offsets(reader, opening.cursor, topic, group, "open.cursor")
    try:
        partitions = await reader.run(reader.partitions, topic)
    except (consume.ConsumeUnavailable, PlatformError) as exc:
        raise Refused(status(code_pb2.UNAVAILABLE, f"Kafka is unavailable: {exc}")) from None
    if partitions is None:
        raise Refused(status(code_pb2.NOT_FOUND, f"Topic {topic} cannot be found."))
    return topic, group, given


def _offsets(reader: consume.EventReader, cursor: str, topic: str, group: str, field: str) -> dict[int, int]:
    try:
        return reader.offsets(cursor, topic=topic, group=group)
    except CursorError as exc:
        raise Refused(invalid({field: [str(exc)]}, message=f"The cursor cannot be used here: {exc}")) from None


def _grant(window: CreditWindow, credits: int) -> None:
    if not credits:
        return
    try:
        window.grant(credits)
    except ValueError as exc:
        raise Refused(invalid({"credits": [str(exc)]}, message="Too many credits")) from None


async def _acknowledge(reader: consume.EventReader, pb2, topic: str, group: str, cursor: str):
    offsets = _offsets(reader, cursor, topic, group, "ack")
    try:
        committed = await reader.run(reader.commit, topic, group, offsets)
    except consume.CommitRefused as exc:
        raise Refused(status(code_pb2.ABORTED, f"Kafka refused the commit for group {group}: {exc}")) from None
    except (consume.ConsumeUnavailable, PlatformError, concurrent.futures.CancelledError) as exc:
        raise Refused(status(code_pb2.UNAVAILABLE, f"Kafka did not take the commit: {exc}")) from None
    if committed is None:
        raise Refused(status(code_pb2.NOT_FOUND, f"Topic {topic} cannot be found."))
    return pb2.Acknowledgement(cursor=cursor, group=group, committed=committed)


# ------------------------------------------------------------------------------------------------ the events
def _event(pb2, event: dict, cursor: str):
    """EventReader's decoded event (the REST shape) as a ConsumedEvent."""
    answer = pb2.ConsumedEvent(partition=event["partition"], offset=event["offset"], cursor=cursor,
                               headers=[pb2.Header(name=header["name"]) if header["value"] is None else
                                        pb2.Header(name=header["name"], value=base64.b64decode(header["value"]))
                                        for header in event["headers"]])
    if event["timestamp"]:
        answer.timestamp.FromDatetime(dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")))
    for side in ("key", "value"):
        part = event[side]
        if part is None:
            continue
        if part.get("type") == "MASKED":  # a side with sensitive fields that could not be decoded: not shown
            setattr(answer, f"{side}_hidden", part.get("reason") or "not shown")
            continue
        getattr(answer, side).CopyFrom(_data(pb2, part))
        if side == "value" and part.get("undecoded"):
            answer.undecoded = part["undecoded"]
    return answer


def _data(pb2, part: dict):
    kind = part.get("type")
    if kind == "STRING":
        return pb2.Data(string=part["data"])
    if kind == "BINARY":
        return pb2.Data(bytes=base64.b64decode(part["data"]))
    text = json.dumps(part["data"], separators=(",", ":"), ensure_ascii=False)
    if kind == "JSON":
        return pb2.Data(json=text)
    types = pb2.SchemaData.Type  # AVRO, JSONSCHEMA, PROTOBUF (a type the enum does not name: unspecified)
    schema_type = types.Value(kind) if kind in types.keys() else types.Value("TYPE_UNSPECIFIED")
    return pb2.Data(schema=pb2.SchemaData(type=schema_type, schema_id=part.get("schema_id", 0), data=text))
