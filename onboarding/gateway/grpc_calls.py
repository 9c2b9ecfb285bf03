"""What every gRPC call of the gateway gets, beside its own work: a request id, metrics, and the guard.

* the request id: the caller's ``x-request-id`` metadata when well formed (the portal's rule), else a new one; it
  is answered in the trailing metadata of every call, aborted ones included, and names the call's audit records;
* metrics (metrics.py): every call by service, method and status code, its duration and its message bytes;
* tracing: a SERVER span per call in the caller's trace (grpc_server_span.py), held as ``context.span``;
* the guard: every authentication and produce decision counted, every denial audited, and the token's rate
  limits (RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail).

``CallInterceptor`` wraps the servicers' handlers; the request id reaches the servicer's checks through a
context variable, so they need no extra argument.
"""

from __future__ import annotations

import contextvars
import time
import uuid

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, error_details_pb2, status_pb2

from onboarding.gateway import grpc_server_span, metrics
from onboarding.gateway.audit import Denial, key_id_of, now_iso
from onboarding.gateway.grants import Grant, denial_reason
from onboarding.gateway.ratelimit import retry_after_header
from portal.request_id import well_formed

REQUEST_ID_KEY = "x-request-id"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("gateway_grpc_request_id", default="")
_method: contextvars.ContextVar[str] = contextvars.ContextVar("gateway_grpc_method", default="")


# --------------------------------------------------------------------------------------------------- guard
def guard(gateway, context, grant: Grant | None) -> tuple[Grant | None, status_pb2.Status | None]:
    """Count the call's authentication (a denial audited); for a grant, take one request of its token's rate
    limit. Returns the grant and, when its limit is reached, the status that answers the call."""
    metadata = dict(context.invocation_metadata() or ())
    header = str(metadata.get("authorization", ""))
    if grant is not None:
        reason = "ok"
    else:
        reason = gateway.grants.check_authorization(header)[1]
        reason = "unknown_token" if reason == "ok" else reason  # revoked between the two looks
    metrics.decision(metrics.GRPC, "authenticate", reason)
    if grant is None:
        _deny(gateway, "authenticate", reason, "UNAUTHENTICATED", key_id=key_id_of(header.partition(" ")[2].strip()))
        return None, None
    wait = gateway.limiter.request(grant.key_id)
    if wait:
        metrics.rate_limited(metrics.GRPC, "requests")
        return grant, exhausted(wait, "requests")
    return grant, None


def authorised(gateway, grant: Grant, action: str, topic: str) -> bool:
    """Whether ``grant`` may ``action`` ("produce", "consume") ``topic``: counted, a denial audited."""
    allowed = grant.may_produce(topic) if action == "produce" else grant.may_consume(topic)
    reason = "ok" if allowed else denial_reason(grant, action)
    metrics.decision(metrics.GRPC, action, reason)
    if not allowed:
        _deny(gateway, action, reason, "PERMISSION_DENIED", grant=grant, topic=topic)
    return allowed


def admit_records(gateway, grant: Grant, topic: str, n: int) -> status_pb2.Status | None:
    """Take ``n`` records of the token's rate limit: None, or the RESOURCE_EXHAUSTED answering them."""
    wait = gateway.limiter.records(grant.key_id, n)
    if not wait:
        return None
    metrics.rate_limited(metrics.GRPC, "records")
    metrics.produced(topic, "rate_limited", n)
    return exhausted(wait, "records")


def count_published(topic: str, results) -> None:
    """A Publish call's results as records produced by outcome (metrics.PRODUCED, as the REST reports are)."""
    outcomes: dict[str, int] = {}
    for result in results:
        outcome = "delivered" if result.HasField("delivery") else _OUTCOMES.get(result.error.code, "refused")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    for outcome, n in outcomes.items():
        metrics.produced(topic, outcome, n)


_OUTCOMES = {code_pb2.RESOURCE_EXHAUSTED: "queue_full", code_pb2.UNAVAILABLE: "unavailable"}


def exhausted(wait: float, limit: str) -> status_pb2.Status:
    retry = error_details_pb2.RetryInfo(retry_delay=Duration(seconds=int(retry_after_header(wait))))
    answer = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED,
                               message=f"This token's {limit} rate limit is reached; retry after the RetryInfo delay.")
    answer.details.add().Pack(retry)
    return answer


def _deny(gateway, action: str, reason: str, status: str, *, key_id: str = "", grant: Grant | None = None,
          topic: str = "") -> None:
    gateway.auditor.deny(Denial(
        at=now_iso(), request_id=_request_id.get(), protocol=metrics.GRPC, route=_method.get(), action=action,
        reason=reason, key_id=grant.key_id if grant else key_id, principal=grant.principal if grant else "",
        team=grant.team if grant else "", topic=topic, status=status))


# --------------------------------------------------------------------------------------------- interceptor
class _Context:
    """The servicer's context, with the request id kept in the trailing metadata: an abort's own trailing
    metadata (google.rpc.Status details) would otherwise replace it."""

    def __init__(self, context, request_id: str, span=None):
        self._context, self.request_id, self._trailing, self.span = context, request_id, (), span
        context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))

    def __getattr__(self, name):
        return getattr(self._context, name)

    def set_trailing_metadata(self, metadata) -> None:
        self._trailing = tuple(metadata)
        self._context.set_trailing_metadata((*self._trailing, (REQUEST_ID_KEY, self.request_id)))

    async def abort(self, code, details="", trailing_metadata=()):
        metadata = (*(trailing_metadata or self._trailing), (REQUEST_ID_KEY, self.request_id))
        await self._context.abort(code, details, metadata)

    async def abort_with_status(self, status):
        await self.abort(status.code, status.details, status.trailing_metadata)


class CallInterceptor(grpc.aio.ServerInterceptor):
    """Request id and metrics for every call of the services it serves (reflection and health too: their
    method names are a fixed set, so the labels stay bounded)."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        metadata = tuple(handler_call_details.invocation_metadata or ())
        call = _Call(service, method, metadata)
        kinds = (("unary_unary", grpc.unary_unary_rpc_method_handler, call.unary),
                 ("unary_stream", grpc.unary_stream_rpc_method_handler, call.unary_stream),
                 ("stream_stream", grpc.stream_stream_rpc_method_handler, call.streaming))
        for attribute, make, wrap in kinds:
            behaviour = getattr(handler, attribute)
            if behaviour is not None:
                return make(wrap(behaviour), request_deserializer=handler.request_deserializer,
                            response_serializer=handler.response_serializer)
        return handler  # client streaming: no such method in these services


class _Call:
    def __init__(self, service: str, method: str, metadata: tuple):
        self.service, self.method, self.metadata = service, method, metadata

    def _start(self, context) -> tuple[_Context, float]:
        given = str(dict(self.metadata).get(REQUEST_ID_KEY, ""))
        request_id = given if well_formed(given) else uuid.uuid4().hex
        _request_id.set(request_id)
        _method.set(f"{self.service}/{self.method}")
        span = grpc_server_span.start(self.service, self.method, self.metadata)
        return _Context(context, request_id, span), time.monotonic()

    def _end(self, context: _Context, error: BaseException | None, started: float) -> None:
        code = _code(context, error)
        metrics.observe_grpc(service=self.service, method=self.method, code=code, seconds=time.monotonic() - started)
        grpc_server_span.end(context.span, code=code, request_id=context.request_id)

    def unary(self, behaviour):
        async def wrapped(request, context):
            context, started = self._start(context)
            error = None
            metrics.grpc_bytes(received=_size(request))
            try:
                response = await behaviour(request, context)
                metrics.grpc_bytes(sent=_size(response))
                return response
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._end(context, error, started)
        return wrapped

    def unary_stream(self, behaviour):
        async def wrapped(request, context):
            context, started = self._start(context)
            error = None
            metrics.grpc_bytes(received=_size(request))
            try:
                async for response in behaviour(request, context):
                    metrics.grpc_bytes(sent=_size(response))
                    yield response
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._end(context, error, started)
        return wrapped

    def streaming(self, behaviour):
        async def wrapped(request_iterator, context):
            context, started = self._start(context)
            error = None

            async def counted():
                async for request in request_iterator:
                    metrics.grpc_bytes(received=_size(request))
                    yield request

            try:
                async for response in behaviour(counted(), context):
                    metrics.grpc_bytes(sent=_size(response))
                    yield response
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._end(context, error, started)
        return wrapped


def _size(message) -> int:
    return message.ByteSize() if hasattr(message, "ByteSize") else 0


def _code(context, error: BaseException | None) -> str:
    """The call's status code name: what the servicer set or aborted with; else OK, or CANCELLED/UNKNOWN."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int) and code in _CODE_NAMES:
        return _CODE_NAMES[code]
    if error is None:
        return "OK"
    return "CANCELLED" if type(error).__name__ == "CancelledError" else "UNKNOWN"


_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
