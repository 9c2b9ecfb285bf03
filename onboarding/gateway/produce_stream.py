"""A streamed produce request answered as it goes: one delivery report a line, in the records' order."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator

from anyio import from_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from onboarding.gateway.http import Refusal
from onboarding.gateway.produce_target import QUEUE_FULL_CODE, ProduceTarget, ReportBatch, failure
from onboarding.gateway.stream import iter_records

MAX_IN_FLIGHT = 1000  # records of one stream produced but not yet reported: reading pauses beyond this
# --------------------------------------------------------------------------------------------- streaming
MAX_GROUP = 500  # records of a stream answered together at most (a chunk's records usually make one group)


def report_line(report: dict) -> str:
    return json.dumps(report, separators=(",", ":")) + "\n"


async def streamed_reports(target: ProduceTarget, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """One line per record, in the records' order, written as soon as it and those before it are acknowledged.

    A worker thread reads the request (each chunk fetched back on the event loop with anyio.from_thread), parses
    its records (stream.iter_records), encodes and enqueues them; the records between two chunk fetches form a
    group, one PendingBatch, handed to this generator, which writes the group's lines once it is acknowledged.
    So the loop is woken once per group, not once per record. The worker stops reading the request while
    MAX_IN_FLIGHT records are enqueued but not yet answered (HTTP flow control does the rest).
    """
    groups: asyncio.Queue = asyncio.Queue()
    room = threading.Semaphore(MAX_IN_FLIGHT)
    stopped = threading.Event()

    async def next_chunk() -> bytes | None:
        try:
            return await chunks.__anext__()
        except StopAsyncIteration:
            return None

    def hand_over(batch: ReportBatch, slots: list) -> None:
        batch.seal()
        if slots:
            from_thread.run_sync(groups.put_nowait, (batch, slots))

    def work() -> None:
        state = {"batch": target.new_batch(), "slots": [], "full": False}

        def flush() -> None:
            hand_over(state["batch"], state["slots"])
            state["batch"], state["slots"] = target.new_batch(), []

        def pull():
            while True:
                flush()  # the records of the chunks so far are all enqueued: answer them as a group
                chunk = from_thread.run(next_chunk)
                if chunk is None:
                    return
                yield chunk

        try:
            for item in iter_records(pull()):
                while not room.acquire(timeout=0.5):
                    if stopped.is_set():
                        return
                if stopped.is_set():
                    return
                refused = target.admit(1)  # a stream's record over the token's limit: that record's report
                slots = [refused] if refused else target.enqueue_all([item], state["batch"], after_full=state["full"])
                state["full"] = state["full"] or (isinstance(slots[0], Refusal)
                                                  and slots[0].error_code == QUEUE_FULL_CODE)
                state["slots"] += slots
                if len(state["slots"]) >= MAX_GROUP:
                    flush()
            flush()
        except ClientDisconnect:
            pass
        except Exception as exc:  # noqa: BLE001 - answered as the stream's last line, not as a broken answer
            flush()
            hand_over(target.new_batch(), [failure(exc)])
        finally:
            if not stopped.is_set():
                from_thread.run_sync(groups.put_nowait, None)

    worker = asyncio.ensure_future(run_in_threadpool(work))
    try:
        while (group := await groups.get()) is not None:
            batch, slots = group
            await batch.done
            lines = "".join(report_line(report) for report in target.reports(slots, batch))
            room.release(len(slots))
            yield lines.encode("utf-8")
        await worker
    finally:
        stopped.set()


class ReportStream(Response):
    """A streamed answer that only sends. Starlette's StreamingResponse also listens for a disconnect with
    ``receive()`` on servers before ASGI 2.4 (uvicorn), which would take request chunks from the reader."""

    media_type = "application/json"

    def __init__(self, lines: AsyncIterator[bytes]):
        self.lines = lines
        self.status_code = 200
        self.background = None
        self.init_headers(None)

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for line in self.lines:
            await send({"type": "http.response.body", "body": line, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
