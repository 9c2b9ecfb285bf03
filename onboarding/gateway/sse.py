"""The gateway's Server-Sent Events: a follower thread (``EventReader.follow``) hands each event to the event loop
through a bounded asyncio queue, so a slow client fills the queue, the thread then waits, and so does the broker's
fetch. Each event's id is the signed cursor after it: a client that reconnects with its Last-Event-ID loses
nothing and sees nothing twice."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import threading
from collections.abc import AsyncIterator

from onboarding.gateway.consume import EventReader
from onboarding.gateway.grants import TopicMasking

logger = logging.getLogger(__name__)

STREAM_QUEUE = 100  # events an SSE stream holds for its client before its reader waits
KEEPALIVE_SECONDS = 15.0

_STOPPED = object()


async def sse_stream(reader: EventReader, topic: str, group: str, given: dict[int, int] | None, *,
                     masking: TopicMasking,
                     keepalive: float = KEEPALIVE_SECONDS) -> AsyncIterator[str]:
    """Server-Sent Events: ``id: <cursor after the event>``, ``event: record``, ``data: <event JSON>``.

    A thread follows the topic and puts each event on a bounded queue of the event loop (waiting while it is
    full); ``: keepalive`` comments keep idle connections open. When the client goes away the generator is
    closed, which stops the thread and closes its consumer. A failure while following ends the stream with an
    ``event: error``; the client reconnects with its Last-Event-ID and loses nothing.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue(maxsize=STREAM_QUEUE)
    stop = threading.Event()

    def offer(item) -> bool:
        put = queue.put(item)
        try:
            future = asyncio.run_coroutine_threadsafe(put, loop)
        except RuntimeError:  # the loop is closed
            put.close()
            return False
        while True:
            try:
                future.result(timeout=0.5)
                return not stop.is_set()
            except concurrent.futures.TimeoutError:
                if stop.is_set():
                    future.cancel()
                    return False

    def follow() -> None:
        try:
            reader.follow(topic, group, given, stop, lambda event, offsets: offer((event, offsets)),
                          masking=masking)
        except Exception as exc:  # noqa: BLE001 - reported to the client as the stream's last event
            logger.warning("gateway SSE of %s stopped: %s", topic, exc)
            offer(exc)
        finally:
            offer(_STOPPED)

    thread = threading.Thread(target=follow, name=f"gateway-sse-{topic}", daemon=True)
    thread.start()
    try:
        yield ": connected\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=keepalive)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if item is _STOPPED:
                return
            if isinstance(item, Exception):
                yield f"event: error\ndata: {json.dumps({'message': str(item)})}\n\n"
                return
            event, offsets = item
            yield (f"id: {reader.cursor(topic, group, offsets)}\nevent: record\n"
                   f"data: {json.dumps(event, separators=(',', ':'))}\n\n")
    finally:
        stop.set()
