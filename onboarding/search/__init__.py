"""The catalogue: find any topic by its name, description, tags, owners or schema fields.

``catalogue_search`` is the one read path for the catalogue page and ``GET /api/v1/search/``; the
documents it searches are kept current by onboarding/services/catalogue.py.
"""

from __future__ import annotations

from onboarding.search.facets import FACETS, FacetValue, facet_counts
from onboarding.search.query import (
    MAX_PAGE_SIZE,
    FieldMatch,
    SearchFilters,
    SearchHit,
    SearchPage,
    filtered_topics,
    normalized_query,
    search_page,
)

__all__ = ["FACETS", "MAX_PAGE_SIZE", "FacetValue", "FieldMatch", "SearchFilters", "SearchHit", "SearchPage",
           "catalogue_search"]


def catalogue_search(*, user, q: str = "", filters: SearchFilters | None = None, page: int = 1,
                     page_size: int = 25) -> SearchPage:
    """A page of the topics ``user`` may see that match ``q`` and the facet ``filters``, best first,
    with facet counts over every match (not just the page)."""
    q = normalized_query(q)
    filters = filters or SearchFilters()
    total, facets = facet_counts(filtered_topics(user, q, filters), {
        "team": filters.teams, "environment": filters.environments, "tag": filters.tags,
        "format": filters.formats})
    result = search_page(user, q=q, filters=filters, number=page, page_size=page_size, total=total)
    result.facets = facets
    return result
