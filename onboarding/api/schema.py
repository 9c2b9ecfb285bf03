"""Shapes of error answers and shared parameters, for the OpenAPI schema only."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

ERRORS = OpenApiResponse(
    inline_serializer("ValidationErrors", {
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Field name to messages; problems of the whole request are under non_field_errors."),
    }),
    description="The request was refused; the messages say what to change.",
)
DETAIL = inline_serializer("Detail", {"detail": serializers.CharField()})
FORBIDDEN = OpenApiResponse(DETAIL, description="You may not do this (role, team or token scope).")
NOT_FOUND = OpenApiResponse(DETAIL, description="No such object, or it is private to another team.")
STALE = inline_serializer("StaleGeneration", {
    "detail": serializers.CharField(),
    "current_generation": serializers.IntegerField(),
})
CONFLICT = OpenApiResponse(STALE, description="The `generation` in the body is no longer current: reload and retry.")
PRECONDITION_FAILED = OpenApiResponse(STALE, description="The `If-Match` generation is no longer current.")
UNAVAILABLE = OpenApiResponse(DETAIL, description="The cluster did not answer; try again later.")

ETAG = OpenApiParameter(
    "ETag", str, OpenApiParameter.HEADER, response=[200, 201, 202],
    description='The topic\'s generation, quoted ("3"); send it back in If-Match to update safely.')
IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description='The ETag (generation) your change is based on, e.g. "3"; a stale one answers 412.')
CONFIRM = OpenApiParameter(
    "confirm", str, OpenApiParameter.QUERY, required=False,
    description="The topic's name, typed again to confirm (or confirm_name in the body).")
ATTEMPT_LIMIT = OpenApiParameter("limit", int, OpenApiParameter.QUERY, required=False,
                                 description="How many of the latest attempts (default 20, at most 200).")
