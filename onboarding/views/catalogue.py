"""The catalogue page: search every topic you may see, narrow it with facets, see why each one matched.

The search box and the facet links ask htmx for the results area only (hx-target=catalogue-results):
the facets and the hits change together, so they are one fragment.
"""

from __future__ import annotations

from django.http import QueryDict
from django.shortcuts import render

from onboarding.lineage.nodes import may_see
from onboarding.search import FACETS, SearchFilters, catalogue_search
from onboarding.search.mappings import mappings_by_field
from onboarding.selectors.classification import classifications
from onboarding.views.common import htmx_target, portal_view

PAGE_SIZE = 25
FACET_TITLES = {"team": "Team", "environment": "Environment", "tag": "Tag", "format": "Schema format"}


def page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _toggled(params: QueryDict, name: str, value: str) -> str:
    """The query string with one facet value switched on or off (back to the first page)."""
    copy = params.copy()
    chosen = copy.getlist(name)
    copy.setlist(name, [v for v in chosen if v != value] if value in chosen else [*chosen, value])
    copy.pop("page", None)
    return copy.urlencode()


def _with_page(params: QueryDict, number: int) -> str:
    copy = params.copy()
    copy["page"] = str(number)
    return copy.urlencode()


def label_classifications(user, hits) -> None:
    """Each hit's sensitivity, own and inherited through routing ("PHI, inherited from x"), for the page's
    topics in a few queries."""
    tags = classifications([hit.topic.pk for hit in hits])
    for hit in hits:
        labels = []
        for tag in tags.get(hit.topic.pk, []):
            word = tag.classification.upper()
            if tag.inherited:
                source = tag.source.name if may_see(user, tag.source) else "a private topic"
                word = f"{word}, inherited from {source}"
            if word not in labels:
                labels.append(word)
        hit.classification = labels


@portal_view
def catalogue_view(request):
    params = request.GET
    result = catalogue_search(user=request.user, q=params.get("q", ""), filters=SearchFilters.from_params(params),
                              page=page_number(params.get("page")), page_size=PAGE_SIZE)
    label_classifications(request.user, result.hits)
    facets = [{"name": name, "title": FACET_TITLES[name],
               "values": [{"value": v, "query": _toggled(params, name, v.value)} for v in result.facets[name]]}
              for name in FACETS]
    context = {
        "section": "catalogue", "result": result, "facets": facets,
        "filtered": bool(result.query) or any(params.getlist(name) for name in FACETS),
        "previous_query": _with_page(params, result.number - 1) if result.has_previous else "",
        "next_query": _with_page(params, result.number + 1) if result.has_next else "",
        "mapping_hits": mappings_by_field(request.user, result.query),
    }
    if htmx_target(request) == "catalogue-results":
        return render(request, "onboarding/partials/_catalogue_results.html", context)
    return render(request, "onboarding/catalogue.html", context)
