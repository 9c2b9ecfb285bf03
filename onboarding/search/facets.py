"""Facet counts of the catalogue: team, environment, tag and schema format, one grouped query each,
over the topics that match the query and the current facet choices."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, QuerySet

from onboarding.models import CatalogEntry, SchemaFormat, Topic

MAX_VALUES = 30  # per facet: the commonest; a selected value is always listed
FACETS = ("team", "environment", "tag", "format")


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


def facet_counts(topics: QuerySet[Topic], selected: dict[str, tuple[str, ...]]) -> dict[str, list[FacetValue]]:
    """``{"team": [FacetValue...], "environment": [...], "tag": [...], "format": [...]}``, commonest first."""
    teams = (topics.order_by().values_list("team__slug", "team__name").annotate(n=Count("pk"))
             .order_by("-n", "team__slug")[:MAX_VALUES])
    environments = (topics.order_by().values_list("cluster__environment").annotate(n=Count("pk"))
                    .order_by("-n", "cluster__environment")[:MAX_VALUES])
    format_labels = dict(SchemaFormat.choices)
    found = {
        "team": [(slug, name, n) for slug, name, n in teams],
        "environment": [(env, env, n) for env, n in environments],
        "tag": [(tag, tag, n) for tag, n in _unnested(topics, Topic._meta.db_table, "tags", "id")],
        "format": [(fmt, format_labels.get(fmt, fmt), n)
                   for fmt, n in _unnested(topics, CatalogEntry._meta.db_table, "formats", "topic_id")],
    }
    return {name: _with_selected(found[name], selected.get(name, ())) for name in FACETS}


def _unnested(topics: QuerySet[Topic], table: str, column: str, key: str) -> list[tuple[str, int]]:
    """Counts of the values of an array column over the matching topics (one grouped query)."""
    inner, params = topics.order_by().values("pk").query.sql_with_params()
    sql = (f'SELECT v.value, COUNT(*) AS n FROM "{table}" AS t CROSS JOIN LATERAL unnest(t."{column}") AS v(value) '
           f'WHERE t."{key}" IN ({inner}) GROUP BY v.value ORDER BY n DESC, v.value LIMIT {MAX_VALUES}')
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _with_selected(rows: list[tuple[str, str, int]], selected: tuple[str, ...]) -> list[FacetValue]:
    values = [FacetValue(value=v, label=label, count=n, selected=v in selected) for v, label, n in rows]
    listed = {v.value for v in values}
    # A chosen value that matches nothing now still shows, so it can be unchosen.
    values += [FacetValue(value=v, label=v, count=0, selected=True) for v in selected if v not in listed]
    return values
