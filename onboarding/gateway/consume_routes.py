"""The gateway's stateless consume routes: a page of events by signed cursor, a commit of a cursor, and
Server-Sent Events resumable by Last-Event-ID. Any replica serves any call (the reads are in consume.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from onboarding.gateway import consume, metrics, sse
from onboarding.gateway.cursor import CursorError
from onboarding.gateway.grants import TopicMasking
from onboarding.gateway.http import Refusal, authenticate, authorise, check_cluster, json_body, read_body
from onboarding.platform.errors import PlatformError


def _consume_target(request: Request, group: object) -> tuple[consume.EventReader, str, str, TopicMasking]:
    """401, 404 cluster, 403, then the group: the caller's name forced under its team's prefix; and what the
    caller's reads of the topic mask."""
    grant = authenticate(request)
    check_cluster(request, request.path_params["cluster_id"])
    topic = request.path_params["topic"]
    authorise(request, grant, "consume", topic)
    if not isinstance(group, str) or not group.strip() or len(group) > 200:
        raise Refusal(400, 400, "A consumer group name is required.",
                      errors={"group": ["a group name of 1 to 200 characters"]})
    masking = request.app.state.gateway.grants.masking(grant, topic)
    return request.app.state.events, topic, grant.group(group.strip()), masking


def _given(events: consume.EventReader, cursor: object, topic: str, group: str, field: str) -> dict | None:
    if cursor is None or cursor == "":
        return None
    try:
        return events.offsets(cursor, topic=topic, group=group)
    except CursorError as exc:
        raise Refusal(400, 400, f"The cursor cannot be used here: {exc}", errors={field: [str(exc)]}) from None


def _bounded(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise Refusal(400, 400, f"{name} must be a whole number from {low} to {high}.",
                      errors={name: [f"a whole number from {low} to {high}"]})
    return value


async def _kafka(events: consume.EventReader, function, *args):
    try:
        return await events.run(function, *args)
    except (consume.ConsumeUnavailable, PlatformError) as exc:
        raise Refusal(503, 50301, f"Kafka or the schema registry is unavailable: {exc}") from None


async def read_events(request: Request) -> Response:
    """A page of decoded events and the signed cursor after them; never commits (a lost answer loses nothing)."""
    events, topic, group, masking = _consume_target(request, request.query_params.get("group"))
    given = _given(events, request.query_params.get("cursor"), topic, group, "cursor")
    max_events = _bounded(request, "max", consume.DEFAULT_MAX_EVENTS, 1, consume.MAX_EVENTS)
    wait_ms = _bounded(request, "wait_ms", 0, 0, consume.MAX_WAIT_MS)
    page = await _kafka(events, lambda: events.read(topic, group, given, max_events=max_events, wait_ms=wait_ms,
                                                         masking=masking))
    if page is None:
        raise Refusal(404, 40403, f"Topic {topic} cannot be found.")
    metrics.consumed(topic, "page", len(page.events))
    return JSONResponse({"events": page.events, "cursor": events.cursor(topic, group, page.offsets)})


async def commit_cursor(request: Request) -> Response:
    """Commit a cursor's offsets for the caller's (prefixed) group: what a native consumer of it resumes from."""
    authenticate(request)
    body = json_body(await read_body(request))
    if not isinstance(body, dict):
        raise Refusal(400, 400, 'A commit is {"group": ..., "cursor": ...}.', errors={"$": ["a JSON object"]})
    events, topic, group, _masking = _consume_target(request, body.get("group"))
    given = _given(events, body.get("cursor"), topic, group, "cursor")
    if given is None:
        raise Refusal(400, 400, "A commit needs the cursor to commit.", errors={"cursor": ["required"]})
    try:
        committed = await _kafka(events, events.commit, topic, group, given)
    except consume.CommitRefused as exc:
        raise Refusal(409, 40901, f"Kafka refused the commit for group {group}: {exc}") from None
    if committed is None:
        raise Refusal(404, 40403, f"Topic {topic} cannot be found.")
    return JSONResponse({"group": group, "committed": {str(p): o for p, o in sorted(committed.items())}})


async def stream_events(request: Request) -> Response:
    """Server-Sent Events from the Last-Event-ID (a cursor), else the cursor parameter, else the group's offsets."""
    events, topic, group, masking = _consume_target(request, request.query_params.get("group"))
    if request.headers.get("last-event-id"):
        given = _given(events, request.headers["last-event-id"], topic, group, "Last-Event-ID")
    else:
        given = _given(events, request.query_params.get("cursor"), topic, group, "cursor")
    if await _kafka(events, events.partitions, topic) is None:
        raise Refusal(404, 40403, f"Topic {topic} cannot be found.")
    return EventStream(sse.sse_stream(events, topic, group, given, masking=masking),
                       media_type="text/event-stream",
                       headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class EventStream(StreamingResponse):
    """A streamed answer whose event generator is closed as soon as the answer ends. Starlette cancels the
    sending task when the client goes away; a generator suspended at its ``yield`` then stays open until the
    garbage collector finds it, and with it the thread that follows the topic and its Kafka consumer."""

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()
