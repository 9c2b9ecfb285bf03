"""Facet counts of the catalogue (team, environment, tag, schema format) and the number of matches,
all from one query: the matching topics are found once (a materialised CTE) and grouped four ways."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from onboarding.models import Cluster, SchemaFormat, Team, Topic

MAX_VALUES = 30  # per facet: the commonest; a selected value is always listed
FACETS = ("team", "environment", "tag", "format")
_GROUPED = """
WITH hits (id, team_id, cluster_id, tags, formats) AS MATERIALIZED ({hits})
SELECT 'total', '', '', COUNT(*) FROM hits
UNION ALL
SELECT 'team', tm.slug, tm.name, COUNT(*) FROM hits JOIN {team} tm ON tm.id = hits.team_id GROUP BY tm.slug, tm.name
UNION ALL
SELECT 'environment', c.environment, c.environment, COUNT(*) FROM hits JOIN {cluster} c ON c.id = hits.cluster_id
GROUP BY c.environment
UNION ALL
SELECT 'tag', v.value, v.value, COUNT(*) FROM hits CROSS JOIN LATERAL unnest(hits.tags) AS v(value) GROUP BY v.value
UNION ALL
SELECT 'format', v.value, v.value, COUNT(*) FROM hits CROSS JOIN LATERAL unnest(hits.formats) AS v(value)
GROUP BY v.value
"""


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


def facet_counts(topics: QuerySet[Topic], selected: dict[str, tuple[str, ...]]
                 ) -> tuple[int, dict[str, list[FacetValue]]]:
    """(matches, ``{"team": [FacetValue...], "environment": [...], "tag": [...], "format": [...]}``),
    each facet commonest first."""
    hits, params = (topics.order_by().values_list("pk", "team_id", "cluster_id", "tags", "catalog_entry__formats")
                    .query.sql_with_params())
    sql = _GROUPED.format(hits=hits, team=_table(Team), cluster=_table(Cluster))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    total, found = 0, defaultdict(list)
    for facet, value, label, count in rows:
        if facet == "total":
            total = count
        else:
            found[facet].append((value, label, count))
    format_labels = dict(SchemaFormat.choices)
    found["format"] = [(v, format_labels.get(v, v), n) for v, _, n in found["format"]]
    return total, {name: _with_selected(found[name], selected.get(name, ())) for name in FACETS}


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _with_selected(rows: list[tuple[str, str, int]], selected: tuple[str, ...]) -> list[FacetValue]:
    rows = sorted(rows, key=lambda row: (-row[2], row[0]))[:MAX_VALUES]
    values = [FacetValue(value=v, label=label, count=n, selected=v in selected) for v, label, n in rows]
    listed = {v.value for v in values}
    # A chosen value that matches nothing now still shows, so it can be unchosen.
    values += [FacetValue(value=v, label=v, count=0, selected=True) for v in selected if v not in listed]
    return values

