"""Unknown paths under /api/v1/ answer in JSON, like the rest of the API, instead of an HTML page."""

from __future__ import annotations

from django.urls import Resolver404, resolve
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny

NOT_FOUND_NAME = "not-found"


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
def endpoint_not_found(request, path: str = ""):
    """404 for any path the API does not have; says so when only the trailing slash is missing.

    (Django's APPEND_SLASH cannot help here: it redirects only paths that match nothing, and it
    cannot redirect a POST at all.)
    """
    if not request.path.endswith("/") and _resolves(request.path + "/"):
        raise NotFound(f"No such API endpoint; did you mean {request.path}/ (with the trailing slash)?")
    raise NotFound("No such API endpoint; see /api/docs/ for the ones there are.")


def _resolves(path: str) -> bool:
    try:
        return resolve(path).url_name != NOT_FOUND_NAME
    except Resolver404:
        return False
