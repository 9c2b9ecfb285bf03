"""The gateway's REST produce API, compatible with Confluent REST Proxy v3 (an ASGI app built with Starlette).

* ``GET /v3/clusters``, ``GET /v3/clusters/{cluster_id}``: the one Kafka cluster, so v3 clients can find its id;
* ``POST /v3/clusters/{cluster_id}/topics/{topic}/records``: one record and its delivery report, or a stream of
  records (chunked, concatenated JSON) answered with one report per record, in order, one JSON object a line;
* ``POST …/records:batch``: ``{"entries": [{"id", …record}]}`` answered 207 with successes and failures by id;
* ``GET …/topics/{topic}/events``, ``POST …/events:commit``, ``GET …/events:stream`` (Server-Sent Events):
  stateless consume by signed cursor (consume_routes.py, consume.py).

This module builds the app and answers what is not produce or consume; produce is produce_routes.py (the routes
and Idempotency-Key), produce_target.py (encoding, enqueueing, reports) and produce_stream.py (chunked streams).

Every answer that is not a delivery report is Confluent's ``{"error_code", "message"}``; payload problems add
``errors``, a map from each field's path to what is wrong there, where Confluent gives one message.
Authorisation is the grants table (``Authorization: Bearer pep_<key id>_<secret>``); the gateway never reads
Postgres.
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onboarding.gateway import consume, consume_routes, metrics, openapi
from onboarding.gateway.http import Refusal, authenticate, check_cluster
from onboarding.gateway.produce_routes import produce, produce_batch
from onboarding.gateway.server_span import ServerSpanMiddleware
from onboarding.gateway.state import Gateway
from portal.request_id import well_formed

access_log = logging.getLogger("onboarding.gateway.access")


# ------------------------------------------------------------------------------------------------ the app
def create_app(*, gateway: Gateway, events: consume.EventReader | None = None):
    """The ASGI app: Starlette's routes behind the request-id middleware and the tracing one (``events``: the
    consume side, by default from settings)."""
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/metrics", metrics.serve, methods=["GET"]),
        Route("/openapi.json", openapi.serve, methods=["GET"]),
        Route("/docs", openapi.page, methods=["GET"]),
        Route("/v3/clusters", _clusters, methods=["GET"]),
        Route("/v3/clusters/{cluster_id}", _cluster, methods=["GET"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/records", produce, methods=["POST"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/records:batch", produce_batch, methods=["POST"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/events", consume_routes.read_events, methods=["GET"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/events:commit", consume_routes.commit_cursor, methods=["POST"]),
        Route("/v3/clusters/{cluster_id}/topics/{topic}/events:stream", consume_routes.stream_events, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={Refusal: _refused, 404: _not_found, 405: _not_allowed})
    app.state.gateway = gateway
    app.state.events = events or consume.EventReader.from_settings()
    # The span inside the request id's middleware, so it can name the request's id.
    return RequestIdMiddleware(ServerSpanMiddleware(app))


async def _healthz(request: Request) -> Response:
    """Liveness for probes and process supervisors: the process answers and knows how many grants it holds."""
    return JSONResponse({"status": "ok", "grants": len(request.app.state.gateway.grants)})


async def _refused(request: Request, exc: Exception) -> Response:
    return exc.response()


async def _not_found(request: Request, exc: Exception) -> Response:
    return Refusal(404, 404, f"No such endpoint: {request.method} {request.url.path}").response()


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return Refusal(405, 405, f"Method {request.method} not allowed here").response()


class RequestIdMiddleware:
    """Answers ``X-Request-ID`` (the caller's when well formed, as the portal's rule says, else a new one) and
    writes the access log line with it. Plain ASGI, so a streamed answer is not buffered."""

    def __init__(self, app):
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if well_formed(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started, status, sizes = time.monotonic(), [0], [0, 0]

        async def receive_counted():
            message = await receive()
            sizes[0] += len(message.get("body", b""))
            return message

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            sizes[1] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_counted, send_with_id)
        finally:
            metrics.observe_rest(route=metrics.route_of(scope), method=scope["method"], status=status[0],
                                 seconds=time.monotonic() - started, received=sizes[0], sent=sizes[1])
            access_log.info("%s %s %s", scope["method"], scope["path"], status[0], extra={
                "method": scope["method"], "path": scope["path"], "status": status[0], "request_id": request_id,
                "duration_ms": round((time.monotonic() - started) * 1000, 1)})


# --------------------------------------------------------------------------------------------- clusters
def _cluster_body(request: Request, cluster_id: str) -> dict:
    base = f"{str(request.base_url).rstrip('/')}/v3/clusters/{cluster_id}"
    return {"kind": "KafkaCluster", "metadata": {"self": base, "resource_name": f"crn:///kafka={cluster_id}"},
            "cluster_id": cluster_id, "topics": {"related": f"{base}/topics"}}


async def _clusters(request: Request) -> Response:
    authenticate(request)
    cluster_id = request.app.state.gateway.producer.cluster_id
    return JSONResponse({"kind": "KafkaClusterList", "metadata": {"self": str(request.url), "next": None},
                         "data": [_cluster_body(request, cluster_id)]})


async def _cluster(request: Request) -> Response:
    authenticate(request)
    check_cluster(request, request.path_params["cluster_id"])
    return JSONResponse(_cluster_body(request, request.path_params["cluster_id"]))

