"""A JSON parser that enforces DATA_UPLOAD_MAX_MEMORY_SIZE and a nesting limit.

Django enforces the size limit only when ``request.body`` is read; DRF reads the request as a
stream, so without this a client could make the server buffer and parse any amount of JSON.
A deeply nested body (``[[[[...``) would raise RecursionError in the parser or later.
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from onboarding.json_limits import JSONTooDeep, check_depth
from portal.api_errors import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """JSONParser that refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413) or nested too deep (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            request = (parser_context or {}).get("request")
            declared = _content_length(request)
            if declared is not None and declared > limit:
                raise PayloadTooLarge(limit)
            body = stream.read(limit + 1)  # one byte more tells "too big" from "exactly at the limit"
            if len(body) > limit:
                raise PayloadTooLarge(limit)
            stream = io.BytesIO(body)
        try:
            return check_depth(super().parse(stream, media_type, parser_context))
        except RecursionError:
            raise ParseError(str(JSONTooDeep())) from None
        except JSONTooDeep as exc:
            raise ParseError(str(exc)) from None


def _content_length(request) -> int | None:
    if request is None:
        return None
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return None
