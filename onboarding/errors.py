"""Errors a service raises; the web layer maps them to form errors or HTTP statuses.

Field-level problems are Django ValidationErrors with a dict, so forms and the API show the same
text next to the same field.
"""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["Conflict", "NotFound", "NotAnswering", "PermissionDenied", "ValidationError"]


class Conflict(Exception):
    """The object changed since the caller read it (a stale generation): reload and retry."""

    def __init__(self, message: str, *, current_generation: int):
        super().__init__(message)
        self.current_generation = current_generation


class NotFound(Exception):
    """The object does not exist, or its existence is secret to this actor."""


class NotAnswering(Exception):
    """A system the answer needs does not answer right now (down, hung, unreachable); the same request may work
    after ``retry_after`` seconds. The API answers 503 with a Retry-After header, a page says to try again."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
