"""Who, through what and in which request: the context attached to every row-history event.

The middleware opens one ``pghistory.context`` per request; pghistory then prefixes each writing
SQL statement with the context as transaction-local settings, and the history triggers copy it
into the event rows. DRF authenticates in the view, after the middleware has run, so token
authentication calls ``attribute_to`` to put the token's user into the already open context.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pghistory
import pghistory.runtime
from django_guid import get_guid


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
    """Middleware: one history context per request, carrying the request's id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        metadata = {
            **user_fields(getattr(request, "user", None)),
            "via": via_for(request.path),
            # django-guid's middleware (outermost, settings.DJANGO_GUID) chose it and answers it in X-Request-ID:
            # logs, history and the response show the same one.
            "request_id": get_guid(),
            "method": request.method,
            "path": request.path,
        }
        with pghistory.context(**metadata):
            return self.get_response(request)
