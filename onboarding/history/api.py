"""GET /api/v1/audit/: row history as paginated JSON, or the whole filtered set as CSV (?format=csv)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.views import APIView

from onboarding.api.pagination import PortalPagination
from onboarding.errors import NotFound
from onboarding.history import present
from onboarding.history.forms import ApiTrailFilterForm
from onboarding.history.selectors import trail_for
from onboarding.history.views import export_response


class AuditTrailView(APIView):
    """Who changed what, when, through what and in which request: the events the caller may read,
    newest first. Members read their teams' history; operators read everything."""

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="Team slug"),
            OpenApiParameter("resource_type", str, description="topic, schema, subscription, team, ..."),
            OpenApiParameter("resource_id", str, description="One resource's id (with resource_type)"),
            OpenApiParameter("actor", str, description="User name"),
            OpenApiParameter("event", str, enum=["insert", "update", "delete", "peek"],
                             description="What happened to the row (a peek reads a topic's events)"),
            OpenApiParameter("action", str, description="A service's action, e.g. topic.update or topic.peek"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="From (inclusive)"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Until (exclusive)"),
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the whole set as CSV"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        form = ApiTrailFilterForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError({field: [error["message"] for error in errors]
                                              for field, errors in form.errors.get_json_data().items()})
        try:
            events = trail_for(request.user, form.trail_filter())
        except NotFound as exc:
            raise exceptions.NotFound(str(exc)) from None
        if request.query_params.get("format") == "csv":
            return export_response(events, "csv", "audit")
        paginator = PortalPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response([present.public(row) for row in present.rows(page)])
