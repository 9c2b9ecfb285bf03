"""The request id: one token per browser or API request, carried into the Celery tasks it schedules.

Operators grep one id across web, worker and router logs. A caller (a load balancer, a CI script) may
send its own ``X-Request-ID``; it is kept when it is well formed and replaced otherwise, so a client
cannot write arbitrary text into the logs.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

HEADER = "X-Request-ID"
# The Celery message header that carries the id from the request to the task it scheduled.
TASK_HEADER = "portal_request_id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")  # the rule of onboarding/history too
access_log = logging.getLogger("portal.access")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("portal_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or task) this code runs for, or None outside of one."""
    return _request_id.get()


def well_formed(value: str | None) -> bool:
    return bool(value) and bool(_WELL_FORMED.fullmatch(value))


def new_request_id() -> str:
    return uuid.uuid4().hex


def bind(value: str | None) -> contextvars.Token:
    """Make ``value`` the current id; pass the token to :func:`reset` when the unit of work ends."""
    return _request_id.set(value)


def reset(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdMiddleware:
    """Binds the request id for the request's lifetime and answers it in the ``X-Request-ID`` header.

    It also writes the access log line (method, path, status, duration) while the id is still bound,
    which a server's own access log cannot do.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER)
        request_id = incoming if well_formed(incoming) else new_request_id()
        request.request_id = request_id
        token = bind(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1)})
        finally:
            reset(token)
        return response


# ---------------------------------------------------------------------------- Celery
def add_to_task_headers(headers: dict | None, **_kwargs) -> None:
    """before_task_publish: a task scheduled while serving a request carries that request's id."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


_task_tokens: dict[str, contextvars.Token] = {}


def bind_from_task(task_id: str | None = None, task=None, **_kwargs) -> None:
    """task_prerun: the task logs under the id of the request that scheduled it, or a new one."""
    request_id = getattr(task.request, TASK_HEADER, None) if task is not None else None
    _task_tokens[task_id] = bind(request_id if well_formed(request_id) else new_request_id())


def unbind_after_task(task_id: str | None = None, **_kwargs) -> None:
    """task_postrun: the next task on this worker process starts without an id."""
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            reset(token)
        except ValueError:  # bound in another context (an eager task inside a request): just clear
            bind(None)


def connect_celery_signals() -> None:
    from celery import signals

    signals.before_task_publish.connect(add_to_task_headers, weak=False, dispatch_uid="portal-request-id-publish")
    signals.task_prerun.connect(bind_from_task, weak=False, dispatch_uid="portal-request-id-prerun")
    signals.task_postrun.connect(unbind_after_task, weak=False, dispatch_uid="portal-request-id-postrun")
