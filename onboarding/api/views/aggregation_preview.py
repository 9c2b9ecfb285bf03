"""POST /api/v1/aggregations/preview: run a definition (nothing saved) over events in the aggregation engine."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors
from onboarding.api import schema
from onboarding.api.serializers.aggregation_preview import AggregationPreviewSerializer, PreviewAnswerSerializer
from onboarding.api.views.aggregations import _source
from onboarding.models import AuditEvent
from onboarding.services.aggregation_preview import aggregation_preview

VIA = AuditEvent.Via.API


class AggregationPreviewView(APIView):
    """The windows a definition would emit, computed by the engine; errors are per field, as for create."""

    @extend_schema(summary="Preview an aggregation over recent or pasted events", request=AggregationPreviewSerializer,
                   responses={200: PreviewAnswerSerializer, 400: schema.ERRORS, 403: schema.FORBIDDEN,
                              503: OpenApiResponse(schema.DETAIL, description="The engine, Kafka or the registry "
                                                                              "did not answer.")})
    def post(self, request):
        body = AggregationPreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        errors = {}
        team = selectors.team_with_slug(slug := fields.pop("team"))
        if team is None:
            errors["team"] = [f"There is no team with the slug {slug!r}."]
        fields["source"] = _source(fields["source"], errors)
        current = None
        if (pk := fields.pop("aggregation", None)) is not None:
            current = selectors.aggregation_for(request.user, pk)
        if errors:
            raise serializers.ValidationError(errors)
        fields.pop("name", None)
        events, recent = fields.pop("events", None), fields.pop("recent", None)
        result = aggregation_preview(actor=request.user, team=team, values=fields, events=events, recent=recent,
                                     current=current, via=VIA)
        if result.unavailable:
            return Response({"detail": result.unavailable}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(PreviewAnswerSerializer(result.as_dict()).data)
