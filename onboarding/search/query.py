"""The catalogue search: which topics match, in what order, and which of their fields matched.

One page costs two queries whatever its size: the count with the facets (facets.py), and the page of
topics with their team, cluster, matched fields and description highlights.

Ranking, best first: the exact topic name; then names starting with the query; then names close to it
(trigram word similarity, so "paymnts" finds payments.*); then the weighted full-text rank, where the
name weighs most (A), tags and owners next (B), the description and field names (C) and field
documentation least (D). A topic found only through a field's documentation ranks below one found by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db.models import Case, F, FloatField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat, JSONObject, Replace
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from onboarding.models import Aggregation, Membership, ResourceStatus, SchemaField, Topic
from onboarding.permissions import is_operator
from onboarding.services.catalogue import SEARCH_CONFIG

MAX_QUERY = 200
MAX_PAGE_SIZE = 100
FIELDS_PER_HIT = 3
EXACT, PREFIX, NAME_SIMILARITY, TEXT_RANK = 100.0, 20.0, 5.0, 10.0
# ts_rank weights for D, C, B, A (PostgreSQL's order).
WEIGHTS = [0.05, 0.2, 0.4, 1.0]
_START, _STOP = "\x02", "\x03"  # ts_headline markers, turned into <mark> after the text is escaped
# ts_headline drops anything that looks like an HTML tag; angle brackets travel as these and come back.
_LT, _GT = "\x04", "\x05"


@dataclass(frozen=True)
class SearchFilters:
    """Facet choices: values within one facet are alternatives (OR), facets combine (AND)."""

    teams: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params) -> SearchFilters:
        """Facet choices from repeated query parameters (``?team=a&team=b&tag=pii``), page and API alike."""

        def values(name: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v.strip()[:100] for v in params.getlist(name) if v.strip()))[:20]

        return cls(teams=values("team"), environments=values("environment"), tags=values("tag"),
                   formats=tuple(v.upper() for v in values("format")))


@dataclass(frozen=True)
class FieldMatch:
    """A schema field that matched the query, with its documentation highlighted (safe HTML)."""

    path: str
    name: str
    type: str
    doc: str
    highlight: SafeString


@dataclass
class SearchHit:
    topic: Topic
    score: float | None
    fields: list[FieldMatch] = field(default_factory=list)
    highlight: SafeString | None = None  # the description with the query's words marked
    produced_by: str | None = None  # the live aggregation whose results the topic holds (``<team>.<name>``)


@dataclass
class SearchPage:
    query: str
    filters: SearchFilters
    hits: list[SearchHit]
    total: int
    number: int
    page_size: int
    facets: dict[str, list] = field(default_factory=dict)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def normalized_query(q: str | None) -> str:
    return " ".join((q or "").split())[:MAX_QUERY]


def catalogue_topics(user) -> QuerySet[Topic]:
    """Live topics the user may find: public ones, their teams' private ones; operators see all.

    Membership is a subquery rather than a join, so every topic is one row and counts need no DISTINCT.
    """
    topics = Topic.objects.exclude(status=ResourceStatus.DELETED)
    if is_operator(user):
        return topics
    return topics.filter(Q(visibility=Topic.Visibility.PUBLIC)
                         | Q(team_id__in=Membership.objects.filter(user=user).values("team_id")))


def filtered_topics(user, q: str, filters: SearchFilters) -> QuerySet[Topic]:
    """The topics that match the query and the facet choices (not ordered, not annotated)."""
    topics = catalogue_topics(user)
    if q:
        # Both conditions are on the entry and GIN-indexed (an exact name is always trigram-similar to
        # itself). Field names are matched by their words only: trigram over every topic's field names
        # costs a tenth of a millisecond per topic, too much for a search as you type.
        topics = topics.filter(Q(catalog_entry__document=_ts_query(q))
                               | Q(catalog_entry__name_text__trigram_word_similar=q))
    if filters.teams:
        topics = topics.filter(team__slug__in=filters.teams)
    if filters.environments:
        topics = topics.filter(cluster__environment__in=filters.environments)
    if filters.tags:
        topics = topics.filter(tags__overlap=list(filters.tags))
    if filters.formats:
        topics = topics.filter(catalog_entry__formats__overlap=list(filters.formats))
    return topics


def ranked(topics: QuerySet[Topic], q: str) -> QuerySet[Topic]:
    """Best first (see the module's docstring); without a query, by name."""
    if not q:
        return topics.order_by("name", "pk")
    score = (Case(When(name__iexact=q, then=Value(EXACT)), default=Value(0.0), output_field=FloatField())
             + Case(When(name__istartswith=q, then=Value(PREFIX)), default=Value(0.0), output_field=FloatField())
             + Coalesce(TrigramWordSimilarity(Value(q), "catalog_entry__name_text"), Value(0.0)) * NAME_SIMILARITY
             + Coalesce(SearchRank(F("catalog_entry__document"), _ts_query(q), weights=WEIGHTS),
                        Value(0.0), output_field=FloatField()) * TEXT_RANK)
    return topics.annotate(score=score).order_by("-score", "name", "pk")


def search_page(user, *, q: str, filters: SearchFilters, number: int, page_size: int,
                total: int | None = None) -> SearchPage:
    """One page of hits with their matched fields and highlights (no facets: see catalogue_search), in one
    query; ``total`` is the number of matches when the caller already counted them (else one more)."""
    topics = filtered_topics(user, q, filters)
    if total is None:
        total = topics.count()
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    number = max(1, min(number, max(1, math.ceil(total / page_size))))
    start = (number - 1) * page_size
    page = (ranked(topics, q).select_related("team", "cluster").defer("observed", "drift", "configs")
            .annotate(producing_aggregation=_producing_aggregation()))
    if q:
        # Costly per-row expressions: PostgreSQL evaluates them after the sort and limit, for the page only.
        page = page.annotate(matched_fields=_matched_fields(q), marked=_headline("description", q))
    rows = list(page[start:start + page_size]) if total else []
    hits = [SearchHit(topic=t, score=getattr(t, "score", None), produced_by=t.producing_aggregation) for t in rows]
    for hit in hits if q else ():
        hit.fields = [FieldMatch(path=f["path"], name=f["name"], type=f["type"], doc=f["doc"],
                                 highlight=_marked(f["marked"] if f["doc"] else ""))
                      for f in hit.topic.matched_fields or []]
        marked = hit.topic.marked
        hit.highlight = _marked(marked) if marked and _START in marked else None
    return SearchPage(query=q, filters=filters, hits=hits, total=total, number=number, page_size=page_size)


def _producing_aggregation() -> Subquery:
    """The id of the live aggregation writing the topic, so a hit says its results are computed, not produced."""
    live = Aggregation.objects.filter(output=OuterRef("pk")).exclude(status=ResourceStatus.DELETED)
    return Subquery(live.order_by("-pk").values(definition=Concat("team__slug", Value("."), "name"))[:1])


def _ts_query(q: str) -> SearchQuery:
    return SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)


def _marked(text: str | None) -> SafeString:
    """The headline as safe HTML: the text escaped, only the markers turned into <mark>."""
    text = (text or "").replace(_LT, "<").replace(_GT, ">")
    return mark_safe(escape(text).replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308


def _headline(column: str, q: str) -> SearchHeadline:
    text = Replace(Replace(F(column), Value("<"), Value(_LT)), Value(">"), Value(_GT))
    return SearchHeadline(text, _ts_query(q), config=SEARCH_CONFIG, start_sel=_START, stop_sel=_STOP,
                          max_words=30, min_words=12)


def _matched_fields(q: str) -> ArraySubquery:
    """The topic's best matching schema fields (by their path's words, their doc, or a close name)."""
    query = _ts_query(q)
    vector = SearchVector("path_words", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "doc", weight="D", config=SEARCH_CONFIG)
    fields = (SchemaField.objects.filter(schema__topic_id=OuterRef("pk"))
              .exclude(schema__status=ResourceStatus.DELETED)
              .annotate(vector=vector)
              .filter(Q(vector=query) | Q(name__trigram_word_similar=q))
              .annotate(rank=Coalesce(SearchRank(vector, query, weights=WEIGHTS), Value(0.0),
                                      output_field=FloatField())
                        + TrigramWordSimilarity(Value(q), "name"))
              .order_by("-rank", "schema_id", "position")
              .values(json=JSONObject(path="path", name="name", type="type", doc="doc",
                                      marked=_headline("doc", q)))[:FIELDS_PER_HIT])
    return ArraySubquery(fields)
