"""Who, through what and in which request: the context attached to every row-history event.

The middleware opens one ``pghistory.context`` per request; pghistory then prefixes each writing
SQL statement with the context as transaction-local settings, and the history triggers copy it
into the event rows. DRF authenticates in the view, after the middleware has run, so token
authentication calls ``attribute_to`` to put the token's user into the already open context.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager

import pghistory
import pghistory.runtime

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is reused only when it is a plain token: it ends up in logs, exports and headers.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")


def request_id_for(incoming: str | None) -> str:
    """The caller's X-Request-ID when well-formed, else a new one."""
    if incoming and WELL_FORMED_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def via_for(path: str) -> str:
    """The channel a request came through, with the same names as AuditEvent.Via."""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "browser"


def user_fields(user) -> dict:
    if user is not None and user.is_authenticated:
        return {"user": user.pk, "username": user.get_username()}
    return {"user": None, "username": None}


def attribute_to(user, **extra) -> None:
    """Name ``user`` as the actor of the rest of the current request (no effect outside one)."""
    pghistory.context(**user_fields(user), **extra)


def stamp(**metadata) -> None:
    """Add metadata (e.g. the service's action) to the open context, for the statements that follow."""
    pghistory.context(**metadata)


def current() -> tuple[uuid.UUID | None, dict]:
    """The open context's id and metadata, or (None, {}) outside a request or task."""
    # pghistory keeps the open context in a thread-local and offers no public getter.
    value = getattr(pghistory.runtime._tracker, "value", None)
    return (value.id, dict(value.metadata)) if value is not None else (None, {})


@contextmanager
def opened(**metadata):
    """Inside the open context as it is; outside any request or task, in a new one with ``metadata``, so
    records written together (an audit record and its row event) still share one context id."""
    if current()[0] is not None:
        yield
        return
    with pghistory.context(**metadata):
        yield


class RequestHistoryContext:
    """Middleware: one history context per request, and the request id echoed in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # portal.request_id's middleware (outermost) has usually chosen the id already: logs, history and
        # the response must all show the same one.
        request.request_id = getattr(request, "request_id", None) or request_id_for(
            request.headers.get(REQUEST_ID_HEADER))
        metadata = {
            **user_fields(getattr(request, "user", None)),
            "via": via_for(request.path),
            "request_id": request.request_id,
            "method": request.method,
            "path": request.path,
        }
        with pghistory.context(**metadata):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response
