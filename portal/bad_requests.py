"""Requests that must never reach a view as they are, and server errors that must not leak as HTML.

- A NUL character in a query parameter: Postgres refuses it in any text it is compared with, so a
  filter or search term carrying one would be a 500. It is a 400 naming the parameter (JSON under
  /api/, the portal's page elsewhere) with Django's own wording for the same problem in forms.
- Under /api/ a 500 is JSON (``{"detail": ...}`` with the request id), in any mode: with DEBUG on,
  Django would answer its debug page, with the settings and the traceback, to an API client. The
  exception itself is logged by Django as always (``django.request``), before this sees the answer.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django_guid import get_guid

API_PREFIX = "/api/"
NULL_MESSAGE = "Null characters are not allowed."


def _null_parameter(params) -> str | None:
    for name, values in params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "\\x00")
    return None


class BadRequestsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path.startswith(API_PREFIX)
        name = _null_parameter(request.GET)
        if name is not None:
            if is_api:
                return JsonResponse({"errors": {name: [NULL_MESSAGE]}}, status=400)
            return render(request, "400.html", {"reason": f"{name}: {NULL_MESSAGE}"}, status=400)
        response = self.get_response(request)
        if is_api and response.status_code >= 500 and not _is_json(response):
            request_id = get_guid()
            return JsonResponse({"detail": "The server failed to answer this request; it has been logged"
                                           + (f" (request id {request_id})." if request_id else ".")},
                                status=response.status_code)
        return response


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"
