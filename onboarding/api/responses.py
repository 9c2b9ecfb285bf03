"""Answers shared by the API's views."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response


def created(data, *, location, headers: dict | None = None) -> Response:
    """201 with the new resource and its ``Location``.

    The location is cast to a plain ``str``: a serializer's url is DRF's ``Hyperlink`` (a ``str``
    subclass), which Django's test client passes through but wsgiref (runserver) and gunicorn refuse
    as a header value, turning every create into a 500.
    """
    answer = Response(data, status=status.HTTP_201_CREATED)
    answer["Location"] = str(location)
    for name, value in (headers or {}).items():
        answer[name] = value
    return answer
