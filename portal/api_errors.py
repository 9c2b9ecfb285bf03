"""The REST API's exception handler: every error is JSON with a predictable shape.

- 400: ``{"errors": {"field": ["message", ...]}}``, always flat: a nested field is keyed by its
  path (``configs.retention.ms``, ``tags[0]``). Service ValidationErrors keep their exact text (the
  browser form shows the same words); problems not tied to one field are under ``non_field_errors``.
- 401/403/404/405/413/415/429/503: ``{"detail": "message"}``.
- 409 and 412 (stale generation): ``{"detail": "...", "current_generation": N}``; 409 without a
  generation when the cluster has no such topic (yet), e.g. peeking at a pending topic.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

from onboarding.errors import Conflict, NotAnswering, NotFound
from onboarding.platform import PlatformError
from portal.error_paths import flat_errors

MISSING_ON_CLUSTER = "UNKNOWN_TOPIC_OR_PART"


class PayloadTooLarge(exceptions.APIException):
    """The request body is over DATA_UPLOAD_MAX_MEMORY_SIZE."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, limit: int | None = None):
        size = f" ({limit // 1024} KiB)" if limit else ""
        super().__init__(f"The request body is larger than the API accepts{size}; send less data per request.")


class PreconditionFailed(Exception):
    """``If-Match`` named a generation that is no longer current."""

    def __init__(self, message: str, *, current_generation: int):
        super().__init__(message)
        self.current_generation = current_generation


def api_exception_handler(exc, context):
    """Map service errors to HTTP statuses and give every error body the shape documented above."""
    if isinstance(exc, DjangoValidationError):
        return _respond({"errors": _django_errors(exc)}, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (Conflict, PreconditionFailed)):
        code = status.HTTP_412_PRECONDITION_FAILED if isinstance(exc, PreconditionFailed) else status.HTTP_409_CONFLICT
        return _respond({"detail": str(exc), "current_generation": exc.current_generation}, code)
    if isinstance(exc, NotAnswering):
        response = _respond({"detail": str(exc), "retryable": True}, status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, PlatformError) and exc.code == MISSING_ON_CLUSTER:
        # The cluster answered: the topic is not there (not applied yet, or deleted behind the portal's back).
        return _respond({"detail": str(exc)}, status.HTTP_409_CONFLICT)
    if isinstance(exc, PlatformError):
        # Only reads that must ask the cluster right now (unmanaged topics) get here; writes are queued.
        return _respond({"detail": f"The cluster did not answer: {exc}", "retryable": exc.retryable},
                        status.HTTP_503_SERVICE_UNAVAILABLE)
    exc = _as_api_exception(exc)
    if isinstance(exc, exceptions.ValidationError):
        return _respond({"errors": _drf_errors(exc.detail)}, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return _respond({"errors": {api_settings.NON_FIELD_ERRORS_KEY: [str(exc.detail)]}},
                        status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)


def _as_api_exception(exc):
    """Django and service exceptions as DRF ones, keeping the service's message."""
    if isinstance(exc, NotFound):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    return exc


def _respond(data: dict, code: int) -> Response:
    set_rollback()
    return Response(data, status=code)


def _django_errors(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {_field_key(field): messages for field, messages in exc.message_dict.items()}
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def _field_key(field: str) -> str:
    return api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field


def _drf_errors(detail) -> dict[str, list[str]]:
    return flat_errors(detail, non_field_key=api_settings.NON_FIELD_ERRORS_KEY)
