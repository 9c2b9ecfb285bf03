"""/api/v1/search/: the catalogue search for automation (same ranking, facets and visibility as the page)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from onboarding.api import schema
from onboarding.api.serializers.search import SearchHitSerializer, SearchParamsSerializer, SearchResultSerializer
from onboarding.search import SearchFilters, catalogue_search


def _facet(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, many=True, explode=True,
                            description=f"Only topics with this {what}; repeat for alternatives (OR). Facets "
                                        "combine with AND.")


class SearchView(APIView):
    """Search the catalogue: topics you may see, by name (exact first, typos tolerated), description, tags,
    owning team and schema fields (names and documentation), with facet counts."""

    @extend_schema(
        summary="Search the catalogue of topics",
        parameters=[SearchParamsSerializer, _facet("team", "owning team (slug)"),
                    _facet("environment", "cluster environment"), _facet("tag", "tag"),
                    _facet("format", "schema format (AVRO, JSON, PROTOBUF)")],
        responses={200: SearchResultSerializer, 400: schema.ERRORS},
    )
    def get(self, request):
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        chosen = params.validated_data
        filters = SearchFilters.from_params(request.query_params)
        page = catalogue_search(user=request.user, q=chosen["q"], filters=filters, page=chosen["page"],
                                page_size=chosen["page_size"])
        url = request.build_absolute_uri()
        context = {"request": request}
        return Response({
            "count": page.total, "page": page.number, "page_size": page.page_size, "num_pages": page.num_pages,
            "next": replace_query_param(url, "page", page.number + 1) if page.has_next else None,
            "previous": replace_query_param(url, "page", page.number - 1) if page.has_previous else None,
            "results": SearchHitSerializer(page.hits, many=True, context=context).data,
            "facets": {name: [{"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                              for v in values] for name, values in page.facets.items()},
        })
