"""The REST produce routes: one record or a stream (``records``), and ``records:batch`` (207 by entry id, or
one transaction with ``"atomic": true``), each answered once per Idempotency-Key when the header is given."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onboarding.gateway import idempotency
from onboarding.gateway.http import Refusal, json_body, read_body
from onboarding.gateway.produce_stream import ReportStream, report_line, streamed_reports
from onboarding.gateway.produce_target import RETRY_AFTER_SECONDS, ProduceTarget, authorised_target, http_status
from onboarding.gateway.state import Gateway
from onboarding.gateway.stream import iter_records

MAX_BATCH_ENTRIES = 1000


async def produce(request: Request) -> Response:
    target = await authorised_target(request)
    if "content-length" not in request.headers:
        if idempotency.HEADER in request.headers:
            raise Refusal(400, 40003, f"{idempotency.HEADER} is for whole requests; a stream's records are "
                          "answered as they are produced, so send a batch to retry safely.",
                          errors={idempotency.HEADER: ["not allowed on a streamed (chunked) request"]})
        return ReportStream(streamed_reports(target, request.stream()))
    # A whole body: one record is answered as one report (its status is the report's); several, one a line.
    body = await read_body(request)
    return await _once(request, target, body, lambda: _produce_whole(target, body))


async def _produce_whole(target: ProduceTarget, body: bytes) -> Response:
    batch = target.new_batch()

    def parse_and_enqueue():
        items = list(iter_records([body]))
        if refused := target.admit(len(items)):
            raise refused
        return len(items), target.enqueue_all(items, batch)

    try:
        count, slots = await run_in_threadpool(parse_and_enqueue)
    finally:
        batch.seal()
    if count == 0:
        raise Refusal(400, 400, "The request body holds no record.", errors={"$": ["no JSON object found"]})
    await batch.done
    reports = target.reports(slots, batch)
    if count == 1:
        status = http_status(reports[0]["error_code"])
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 429 else None
        return JSONResponse(reports[0], status_code=status, headers=headers)
    return Response("".join(report_line(report) for report in reports), media_type="application/json")


async def produce_batch(request: Request) -> Response:
    target = await authorised_target(request)
    body = await read_body(request)
    return await _once(request, target, body, lambda: _produce_entries(target, body))


async def _produce_entries(target: ProduceTarget, body: bytes) -> Response:
    batch = target.new_batch()

    def parse_and_enqueue():
        document = json_body(body)
        entries = _batch_entries(document)
        records = [{name: value for name, value in entry.items() if name != "id"} for entry in entries]
        if refused := target.admit(len(records)):
            raise refused
        ids = [entry["id"] for entry in entries]
        if _atomic(document):
            return ids, target.produce_atomically(records)
        return ids, target.enqueue_all(records, batch)

    try:
        ids, slots = await run_in_threadpool(parse_and_enqueue)
    finally:
        batch.seal()
    await batch.done  # enqueued in order; the acknowledgements are awaited together
    successes, failures = [], []
    for entry_id, report in zip(ids, target.reports(slots, batch), strict=True):
        (successes if report["error_code"] == 200 else failures).append({"id": entry_id, **report})
    return JSONResponse({"successes": successes, "failures": failures}, status_code=207)


async def _once(request: Request, target: ProduceTarget, body: bytes, answer) -> Response:
    """``answer()``, once per Idempotency-Key (idempotency.py); without the header, simply ``answer()``."""
    given = request.headers.get(idempotency.HEADER)
    if given is None:
        return await answer()
    store = _idempotency(target.gateway)
    try:
        claimed = await store.claim(key=idempotency.check_key(given), body=body,
                                    scope=f"{target.key_id} {request.method} {request.url.path}")
    except idempotency.KeyProblem as exc:
        raise Refusal(exc.status, exc.status * 100 + 3, str(exc), errors={idempotency.HEADER: [str(exc)]},
                      headers={"Retry-After": RETRY_AFTER_SECONDS} if exc.status == 409 else None) from None
    except idempotency.StoreUnavailable as exc:
        raise Refusal(503, 50302, f"Requests with an {idempotency.HEADER} cannot be served now (its store is "
                      f"unavailable: {exc}); nothing was produced.", headers={"Retry-After": RETRY_AFTER_SECONDS}) \
            from None
    if isinstance(claimed, idempotency.StoredAnswer):
        return Response(claimed.body, status_code=claimed.status, media_type="application/json",
                        headers={**claimed.headers, "Idempotent-Replayed": "true"})
    try:
        response = await answer()
    except Refusal as exc:
        response = exc.response()
    except BaseException:
        await store.release(claimed)
        raise
    await store.finish(claimed, status=response.status_code, body=bytes(response.body),
                       headers={"Retry-After": response.headers["retry-after"]} if "retry-after" in response.headers
                       else {})
    return response


def _idempotency(gateway: Gateway) -> idempotency.IdempotencyStore:
    """The gateway's Idempotency-Key store, made on the first request that carries one."""
    if gateway.idempotency is None:
        gateway.idempotency = idempotency.IdempotencyStore.from_settings()
    return gateway.idempotency


def _atomic(document: dict) -> bool:
    atomic = document.get("atomic", False)
    if not isinstance(atomic, bool):
        raise Refusal(400, 400, "atomic is true or false.", errors={"atomic": [f"expected true or false, got "
                                                                              f"{json.dumps(atomic)[:40]}"]})
    return atomic


def _batch_entries(document: object) -> list[dict]:
    entries = document.get("entries") if isinstance(document, dict) else None
    unknown = sorted(set(document) - {"entries", "atomic"}) if isinstance(document, dict) else []
    if unknown:
        raise Refusal(400, 400, "A batch has entries and, optionally, atomic.",
                      errors={name: ["unknown field; a batch has entries and atomic"] for name in unknown})
    if not isinstance(entries, list) or not entries:
        raise Refusal(400, 400, "A batch is {\"entries\": [{\"id\": …, …record}]}.",
                      errors={"entries": ["a non-empty list of records, each with an id"]})
    if len(entries) > MAX_BATCH_ENTRIES:
        raise Refusal(400, 400, f"A batch holds at most {MAX_BATCH_ENTRIES} entries.",
                      errors={"entries": [f"{len(entries)} entries; at most {MAX_BATCH_ENTRIES}"]})
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        entry_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str) or not entry_id:
            errors[f"entries[{index}].id"] = ["every entry needs a non-empty string id"]
        elif entry_id in seen:
            errors[f"entries[{index}].id"] = [f"id {entry_id!r} is used by an earlier entry"]
        else:
            seen.add(entry_id)
    if errors:  # ids are how failures are reported: without them, nothing could be answered per entry
        raise Refusal(400, 400, "Every batch entry needs its own id.", errors=errors)
    return entries
