"""The two parts of the request id that django-guid does not do: the rule for a caller's id, and the access log.

django-guid (``DJANGO_GUID`` in settings) holds the id: it takes the caller's ``X-Request-ID`` or generates
one, answers it in ``X-Request-ID``, gives it to the log filter (``django_guid.get_guid()``) and carries it in
the headers of the Celery tasks the request schedules. Its own check of a caller's id accepts UUIDs only, but
load balancers and CI scripts send ids like ``ci-run-42.step-7``. So django-guid runs with ``VALIDATE_GUID``
off behind this middleware, which removes a malformed header first (django-guid then generates a new id): a
caller still cannot write arbitrary text into logs, history rows and response headers.
"""

from __future__ import annotations

import logging
import re
import time

# 8-128 characters, the first a letter or digit: what operators and CI scripts send, nothing a log could misread.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
_META_KEY = "HTTP_X_REQUEST_ID"  # X-Request-ID, as WSGI and ASGI requests name it in META
access_log = logging.getLogger("portal.access")


def well_formed(value: str | None) -> bool:
    return bool(value) and bool(_WELL_FORMED.fullmatch(value))


class RequestIdMiddleware:
    """Just outside django-guid's middleware: drops a malformed ``X-Request-ID``, then writes the access log
    line (method, path, status, duration) while the request's id is still set, which a server's own access
    log cannot do. django-guid clears the id only when the response is closed (``request_finished``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _META_KEY in request.META and not well_formed(request.META[_META_KEY]):
            del request.META[_META_KEY]
            request.__dict__.pop("headers", None)  # HttpRequest.headers is cached from META
        started = time.monotonic()
        response = self.get_response(request)
        access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.monotonic() - started) * 1000, 1)})
        return response

