"""The topic list (/topics/) part of the catalogue benchmark: run by catalogue.py over the data it seeded.

For a few filters and page sizes 25 and 100, as an operator (sees every topic) and as a member of two teams
(public topics and their teams' private ones), the best time of
- raw: the paginator's COUNT and the page's rows (the columns the table shows, same order, same visibility
  condition) in two hand-written statements, checked to return the same ids as the portal;
- raw+f: raw plus what the filter form offers (the visible topics' distinct tags, the teams, the clusters);
- page: the count and the rows of the filtered queryset the view pages (FilterSet built beforehand);
- select: what the view computes before rendering (topics_visible_to, TopicFilterForm with its choices of tags,
  teams and clusters, Paginator count and rows);
- view: GET /topics/ through the test client (HTML rendered);
with the ratios to raw SQL (goal <= 3) and the query count of select and view per page size (must be equal).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.paginator import Paginator
from django.db import connection
from django.http import QueryDict
from django.test import Client

from onboarding.filtersets import TopicFilterSet
from onboarding.models import ResourceStatus
from onboarding.permissions import is_operator
from onboarding.selectors import topic_table_rows, topics_visible_to

SIZES = (25, 100)
# Realistic requests: the first page, one team's topics (not one of the member's), a word typed in the search
# box (names and descriptions), the failed topics.
FILTERS = {"(none)": {}, "team=team05": {"team": "team05"}, "q=refund": {"q": "refund"},
           "status=failed": {"status": "failed"}}

VISIBLE = ("AND (t.visibility = 'public'"
           " OR t.team_id IN (SELECT team_id FROM onboarding_membership WHERE user_id = %(user)s))")
CONDITIONS = {"team": "AND t.team_id = (SELECT id FROM onboarding_team WHERE slug = %(team)s)",
              "q": "AND (upper(t.name) LIKE upper(%(like)s) OR upper(t.description) LIKE upper(%(like)s))",
              "status": "AND t.status = %(status)s"}
RAW_ROWS = """
SELECT t.id, t.name, t.description, t.tags, t.visibility, t.status, t.partitions, t.replication_factor,
       tm.slug, c.name
FROM onboarding_topic t JOIN onboarding_team tm ON tm.id = t.team_id JOIN onboarding_cluster c ON c.id = t.cluster_id
WHERE {where}
ORDER BY t.name, t.id LIMIT %(limit)s
"""
RAW_COUNT = "SELECT count(*) FROM onboarding_topic t WHERE {where}"
RAW_TAGS = "SELECT DISTINCT unnest(t.tags) FROM onboarding_topic t WHERE {where}"
RAW_CHOICES = ("SELECT id, slug, name FROM onboarding_team ORDER BY slug",
               "SELECT id, name, environment FROM onboarding_cluster ORDER BY \"order\", name")


def _where(user, params: dict, *, filtered: bool) -> str:
    """The statement's WHERE: live topics (or the deleted ones when asked), the visibility rule for
    non-operators, and the chosen filters (``filtered``: the tag choices are offered before filtering)."""
    where = "t.status = 'deleted'" if params.get("status") == ResourceStatus.DELETED else "t.status <> 'deleted'"
    if not is_operator(user):
        where += " " + VISIBLE
    if filtered:
        where += "".join(" " + CONDITIONS[name] for name in params)
    return where


def _args(user, params: dict, limit: int) -> dict:
    like = "%" + params.get("q", "").replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return {"user": user.pk, "limit": limit, "like": like, **params}


def raw_page(user, params: dict, limit: int) -> tuple[int, tuple[int, ...]]:
    """What the paginator asks for, by hand: the total, then the first page's rows."""
    where, args = _where(user, params, filtered=True), _args(user, params, limit)
    with connection.cursor() as cursor:
        cursor.execute(RAW_COUNT.format(where=where), args)
        total = cursor.fetchone()[0]
        cursor.execute(RAW_ROWS.format(where=where), args)
        return total, tuple(row[0] for row in cursor.fetchall())


def raw_with_form(user, params: dict, limit: int) -> tuple[int, tuple[int, ...]]:
    """The page and what the filter form offers: the visible topics' tags, the teams and the clusters."""
    result = raw_page(user, params, limit)
    with connection.cursor() as cursor:
        cursor.execute(RAW_TAGS.format(where=_where(user, params, filtered=False)), _args(user, params, limit))
        cursor.fetchall()
        for statement in RAW_CHOICES:
            cursor.execute(statement)
            cursor.fetchall()
    return result


def _query(params: dict, size: int | None = None) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update(params)
    if size is not None:
        query["page_size"] = str(size)
    return query


def portal_queryset(user, params: dict):
    """The filtered, ordered queryset the view pages (the FilterSet is built here, outside the timing)."""
    topics = topics_visible_to(user, include_deleted=params.get("status") == ResourceStatus.DELETED)
    return topic_table_rows(TopicFilterSet(_query(params), queryset=topics).qs)


def page_of(queryset, size: int) -> tuple[int, tuple[int, ...]]:
    page = Paginator(queryset, size).get_page(1)
    return page.paginator.count, tuple(topic.pk for topic in page.object_list)


def selector(user, params: dict, size: int) -> tuple[int, tuple[int, ...]]:
    """What topic_list computes before rendering, from the request's parameters on."""
    return page_of(portal_queryset(user, params), size)


def view_page(client: Client, params: dict, size: int) -> tuple[int, tuple[int, ...]]:
    response = client.get("/topics/", _query(params, size))
    assert response.status_code == 200, response.status_code
    page = response.context["page"]
    return page.paginator.count, tuple(topic.pk for topic in page.object_list)


def run(users: dict, repeat: int, best_time: Callable, count_queries: Callable) -> tuple[float, float]:
    """Prints one row per user, filter and page size; returns the worst page/raw and the worst of
    select/raw+f and view/raw+f."""
    print(f"\n/topics/ (topic list)\n{'user':8} {'filter':14} {'size':>4} {'count':>5} {'raw':>6} {'raw+f':>6} "
          f"{'page':>6} {'select':>6} {'view':>6} {'page/raw':>8} {'sel/raw+f':>9} {'view/raw+f':>10} "
          f"{'queries sel/view':>16}")
    worst_page = worst = 0.0
    for label, user in users.items():
        client = Client()
        client.force_login(user)
        for name, params in FILTERS.items():
            counts = set()
            for size in SIZES:
                row = measure(user, client, params, size, repeat, best_time, count_queries)
                assert row["ids"] == row["expected"], f"{label} {name} {size}: the portal's page differs from raw SQL's"
                counts.add(row["queries"])
                worst_page = max(worst_page, row["page"] / row["raw"])
                worst = max(worst, row["select"] / row["raw_f"], row["view"] / row["raw_f"])
                print(f"{label:8} {name:14} {size:>4} {row['expected'][0]:>5} "
                      + " ".join(f"{row[k] * 1e3:>6.1f}" for k in ("raw", "raw_f", "page", "select", "view"))
                      + f" {row['page'] / row['raw']:>8.2f} {row['select'] / row['raw_f']:>9.2f} "
                      f"{row['view'] / row['raw_f']:>10.2f} {row['queries'][0]:>8}/{row['queries'][1]:<8}")
            assert len(counts) == 1, f"{label} {name}: the query count depends on the page size: {counts}"
    print("times in ms (best of --repeat); raw = COUNT + the page's rows; raw+f = raw + the form's choices (tags, "
          "teams, clusters); page = count + rows of the filtered queryset; select = visibility, FilterSet and "
          "Paginator; view = GET /topics/?page_size=N")
    return worst_page, worst


def measure(user, client: Client, params: dict, size: int, repeat: int, best_time: Callable,
            count_queries: Callable) -> dict:
    """One row of the table: what each way returns (to compare), its best time and its query counts."""
    expected = raw_page(user, params, size)
    queryset = portal_queryset(user, params)
    got = {page_of(queryset, size), selector(user, params, size), view_page(client, params, size)}
    return {
        "expected": expected, "ids": got.pop() if len(got) == 1 else got,
        "raw": best_time(lambda: raw_page(user, params, size), repeat),
        "raw_f": best_time(lambda: raw_with_form(user, params, size), repeat),
        "page": best_time(lambda: page_of(queryset, size), repeat),
        "select": best_time(lambda: selector(user, params, size), repeat),
        "view": best_time(lambda: view_page(client, params, size), repeat),
        "queries": (count_queries(lambda: selector(user, params, size)),
                    count_queries(lambda: view_page(client, params, size))),
    }
