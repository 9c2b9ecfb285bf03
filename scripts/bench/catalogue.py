"""Benchmark: the catalogue search against raw SQL returning the same rows, in the same run.

  scripts/dev bench catalogue [--topics 10000] [--schemas 2000] [--repeat 9] [--keep] [--explain] [--only topics]

Runs in a database of its own (created, migrated and dropped here), so the portal's data is untouched:
1. Seeds N topics (20 teams, two environments, tags, descriptions, some private) and M Avro schemas with
   nested fields and docs, with bulk inserts; then times the catalogue rebuild over all of them.
2. For several queries and page sizes 25 and 100, as a member of two teams: the best time of
   - raw SQL: one hand-written statement returning the page's rows in the same order (checked equal);
   - the page alone (search_page: count, ranked page, matched fields, highlights);
   - the whole selector (catalogue_search: the page plus the facet counts);
   - the full view through the test client (/catalogue/, HTML rendered);
   and the ratios to raw SQL (goal <= 3), with the query count of each per page size (must be equal).
3. The topic list (/topics/) for a few filters and page sizes 25 and 100, as an operator and as that member,
   against raw SQL returning the same rows (catalogue_topics.py says what each column measures).
"""

import argparse
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

import catalogue_topics  # noqa: E402  (scripts/bench, this script's directory)
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from onboarding.models import Cluster, Membership, Schema, SchemaVersion, Team, Topic  # noqa: E402
from onboarding.search import SearchFilters, catalogue_search  # noqa: E402
from onboarding.search.query import EXACT, NAME_SIMILARITY, PREFIX, TEXT_RANK, WEIGHTS, search_page  # noqa: E402
from onboarding.services.catalogue import SEARCH_CONFIG, catalogue_rebuild  # noqa: E402
from onboarding.views import catalogue as catalogue_views  # noqa: E402

WORDS = ("order payment refund invoice patient admission discharge ward lab result claim insurer ledger account "
         "customer address shipment parcel device reading alert consent prescription dose visit schedule "
         "settlement chargeback dispute card merchant terminal region branch audit").split()
FIELD_DOCS = ["Date of birth of the patient", "Amount in cents", "When the event happened (UTC)",
              "Identifier of the customer account", "Postal code of the delivery address",
              "Insurer that pays the claim", "Dose in milligrams", "Ward where the patient stays",
              "Merchant category code", "Reason given for the refund"]
# Descriptions mix the domain words with a wider vocabulary, as real ones do: a word then matches a few
# percent of the topics, not half of them.
FILLER = [f"{a}{b}" for a in ("bar", "cor", "del", "fen", "gal", "hol", "mir", "nor", "pel", "tam")
          for b in ("ax", "en", "ic", "ol", "um", "ar", "is", "on", "ut", "ex", "ine", "ova", "ent", "ark", "ist")]
QUERIES = ["team07.order-00042", "setlement", "patient birth date", "refund", "amount cents", ""]
SIZES = (25, 100)
# The page as hand-written SQL: the same rows in the same order, with what the page shows of each (team,
# cluster, the description's highlight, the three best matching fields and their docs' highlights).
RAW = """
WITH q AS (SELECT websearch_to_tsquery(%(config)s, %(q)s) AS query),
page AS (
  SELECT t.id, (CASE WHEN upper(t.name) = upper(%(q)s) THEN %(exact)s ELSE 0 END
          + CASE WHEN upper(t.name) LIKE upper(%(prefix)s) THEN %(prefix_bonus)s ELSE 0 END
          + coalesce(word_similarity(%(q)s, e.name_text), 0) * %(similarity)s
          + coalesce(ts_rank(%(weights)s::real[], e.document, q.query), 0) * %(text_rank)s) AS score
  FROM onboarding_topic t JOIN onboarding_catalogentry e ON e.topic_id = t.id, q
  WHERE t.status <> 'deleted'
    AND (t.visibility = 'public' OR t.team_id IN (SELECT team_id FROM onboarding_membership WHERE user_id = %(user)s))
    AND (e.document @@ q.query OR e.name_text %%> %(q)s)
  ORDER BY score DESC, t.name, t.id LIMIT %(limit)s)
SELECT t.id, t.name, t.description, t.tags, t.visibility, t.status, tm.slug, tm.name, c.name, c.environment,
       page.score, ts_headline(%(config)s, t.description, q.query),
       ARRAY(SELECT json_build_object('path', f.path, 'name', f.name, 'type', f.type, 'doc', f.doc,
                                      'marked', ts_headline(%(config)s, f.doc, q.query))
             FROM onboarding_schemafield f JOIN onboarding_schema s ON s.id = f.schema_id
             WHERE s.topic_id = t.id AND s.status <> 'deleted'
               AND (setweight(to_tsvector(%(config)s, f.path_words), 'A')
                    || setweight(to_tsvector(%(config)s, f.doc), 'D') @@ q.query OR f.name %%> %(q)s)
             ORDER BY coalesce(ts_rank(%(weights)s::real[], setweight(to_tsvector(%(config)s, f.path_words), 'A')
                      || setweight(to_tsvector(%(config)s, f.doc), 'D'), q.query), 0)
                      + word_similarity(%(q)s, f.name) DESC, f.schema_id, f.position LIMIT 3)
FROM page JOIN onboarding_topic t ON t.id = page.id JOIN onboarding_team tm ON tm.id = t.team_id
JOIN onboarding_cluster c ON c.id = t.cluster_id, q
ORDER BY page.score DESC, t.name, t.id
"""
RAW_BROWSE = """
SELECT t.id, t.name, t.description, t.tags, t.visibility, t.status, tm.slug, tm.name, c.name, c.environment
FROM onboarding_topic t JOIN onboarding_team tm ON tm.id = t.team_id JOIN onboarding_cluster c ON c.id = t.cluster_id
WHERE t.status <> 'deleted'
  AND (t.visibility = 'public' OR t.team_id IN (SELECT team_id FROM onboarding_membership WHERE user_id = %(user)s))
ORDER BY t.name, t.id LIMIT %(limit)s
"""


def own_database(keep: bool):
    """A database of this run's own (Django's test database machinery: create, migrate, drop after);
    ``keep`` reuses and keeps bench_catalogue, to study plans between runs."""
    connection.settings_dict["TEST"]["NAME"] = "bench_catalogue" if keep else f"bench_catalogue_{os.getpid()}"
    setup_test_environment()
    old = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep)
    return old


def avro_schema(rng: random.Random, i: int) -> str:
    def fields(prefix, n):
        out = []
        for j in range(n):
            word = rng.choice(WORDS)
            out.append({"name": f"{word}_{prefix}{j}", "type": "string", "doc": rng.choice(FIELD_DOCS)})
        return out

    nested = {"type": "record", "name": f"Patient{i}", "fields": [
        {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}, "doc": "Date of birth of the patient"}
        if i % 10 == 0 else {"name": "amount", "type": "long", "doc": "Amount in cents"}, *fields("n", 4)]}
    return json.dumps({"type": "record", "name": f"Event{i}", "namespace": "bench",
                       "fields": [*fields("f", rng.randint(8, 20)), {"name": "subject", "type": nested}]})


def status_of(i: int) -> str:
    """Mostly ready, as on a settled platform; a few pending, failed and deleted ones for the list's filters."""
    return {7: "failed", 13: "pending", 29: "deleted"}.get(i % 50, "ready")


def seed(topics: int, schemas: int) -> tuple[object, float]:
    rng = random.Random(42)
    started = time.perf_counter()
    teams = Team.objects.bulk_create([Team(slug=f"team{i:02d}", name=f"{rng.choice(WORDS).title()} team {i}",
                                           contacts=f"team{i:02d}@example.org") for i in range(20)])
    clusters = Cluster.objects.bulk_create([
        Cluster(name="bench-dev", environment="dev", bootstrap_servers="127.0.0.1:1"),
        Cluster(name="bench-prod", environment="prod", order=1, bootstrap_servers="127.0.0.1:1")])
    rows = []
    for i in range(topics):
        team, word = teams[i % len(teams)], rng.choice(WORDS)
        name = f"{team.slug}.{word}-{i:05d}"
        rows.append(Topic(cluster=clusters[i % 2], team=team, name=name, collision_key=name.replace(".", "_"),
                          partitions=1, replication_factor=1, status=status_of(i),
                          description=" ".join(rng.choice(WORDS) if rng.random() < 0.15 else rng.choice(FILLER)
                                               for _ in range(rng.randint(5, 25))).capitalize(),
                          tags=rng.sample(["pii", "gold", "silver", "billing", "clinical", "internal"], 2),
                          visibility="private" if i % 7 == 0 else "public"))
    topics_made = Topic.objects.bulk_create(rows, batch_size=2000)
    picked = rng.sample(topics_made, schemas)
    made = Schema.objects.bulk_create([Schema(topic=t, side="value", format="AVRO", status="ready") for t in picked],
                                      batch_size=2000)
    SchemaVersion.objects.bulk_create([SchemaVersion(schema=s, number=1, text=avro_schema(rng, i), fingerprint=str(i))
                                       for i, s in enumerate(made)], batch_size=1000)
    user = get_user_model().objects.create_user("bench-member", password="x")
    Membership.objects.bulk_create([Membership(user=user, team=teams[0]), Membership(user=user, team=teams[1])])
    get_user_model().objects.create_user("bench-operator", password="x", is_staff=True)
    return user, time.perf_counter() - started


def best_time(run, repeat: int) -> float:
    """The fastest of ``repeat`` runs after a warm-up: on a shared machine the others measure the neighbours."""
    run()  # warm caches and plans
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def raw_params(user, q: str, limit: int) -> dict:
    prefix = q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return {"user": user.pk, "q": q, "config": SEARCH_CONFIG, "prefix": prefix, "exact": EXACT,
            "prefix_bonus": PREFIX, "similarity": NAME_SIMILARITY, "text_rank": TEXT_RANK, "weights": WEIGHTS,
            "limit": limit}


RAW_FACETS = """
WITH hits AS MATERIALIZED (
  SELECT t.id, t.team_id, t.cluster_id, t.tags, e.formats FROM onboarding_topic t
  LEFT JOIN onboarding_catalogentry e ON e.topic_id = t.id
  WHERE t.status <> 'deleted'
    AND (t.visibility = 'public' OR t.team_id IN (SELECT team_id FROM onboarding_membership WHERE user_id = %(user)s))
    {match})
SELECT 'total', '', COUNT(*) FROM hits
UNION ALL SELECT 'team', tm.slug, COUNT(*) FROM hits JOIN onboarding_team tm ON tm.id = hits.team_id GROUP BY tm.slug
UNION ALL SELECT 'env', c.environment, COUNT(*) FROM hits JOIN onboarding_cluster c ON c.id = hits.cluster_id
  GROUP BY c.environment
UNION ALL SELECT 'tag', v, COUNT(*) FROM hits, unnest(hits.tags) v GROUP BY v
UNION ALL SELECT 'format', v, COUNT(*) FROM hits, unnest(hits.formats) v GROUP BY v
"""
RAW_MATCH = "AND (e.document @@ websearch_to_tsquery(%(config)s, %(q)s) OR e.name_text %%> %(q)s)"


def raw_with_facets(user, q: str, limit: int) -> list[int]:
    """What a hand-written search page needs: the rows, and the facet counts and total."""
    ids = raw_ids(user, q, limit)
    with connection.cursor() as cursor:
        cursor.execute(RAW_FACETS.format(match=RAW_MATCH if q else ""), raw_params(user, q, limit))
        cursor.fetchall()
    return ids


def raw_ids(user, q: str, limit: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(RAW if q else RAW_BROWSE, raw_params(user, q, limit))
        return [row[0] for row in cursor.fetchall()]


def explain(user):
    for q in QUERIES:
        if q:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + RAW, raw_params(user, q, 25))
                print(f"--- {q}\n" + "\n".join(row[0] for row in cursor.fetchall()))


def count_queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--schemas", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="Keep (and reuse) the database bench_catalogue.")
    parser.add_argument("--only", choices=("search", "topics"), help="Measure only the search or the topic list.")
    parser.add_argument("--explain", action="store_true", help="Print the raw query's plan for each query.")
    args = parser.parse_args()
    settings.DEBUG = False  # no query log kept per statement: timings as in production
    logging.getLogger("portal.access").setLevel(logging.WARNING)  # a line per request would drown the tables
    old_name = own_database(args.keep)
    try:
        user = get_user_model().objects.filter(username="bench-member").first() if args.keep else None
        if user is None:
            user, seeded = seed(args.topics, args.schemas)
            started = time.perf_counter()
            indexed = catalogue_rebuild()
            rebuild = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"seeded {args.topics} topics, {args.schemas} schemas in {seeded:.1f} s; "
                  f"catalogue rebuild of {indexed} topics: {rebuild:.1f} s ({indexed / rebuild:.0f} topics/s)")
        if args.explain:
            explain(user)
        if args.only != "topics":
            search(user, args)
        if args.only != "search":
            users = {"operator": get_user_model().objects.get(username="bench-operator"), "member": user}
            list_page, list_like = catalogue_topics.run(users, args.repeat, best_time, count_queries)
            print(f"topic list: worst page/raw: {list_page:.2f}; worst select or view/(raw+form): {list_like:.2f} "
                  "(goal <= 3)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=args.keep)


def search(user, args):
    """Part 2: the catalogue search's table."""
    client = Client()
    client.force_login(user)
    print(f"{'query':20} {'size':>4} {'hits':>5} {'raw':>6} {'raw+f':>6} {'page':>6} {'select':>6} {'view':>6} "
          f"{'page/raw':>8} {'sel/raw':>7} {'sel/raw+f':>9} {'view/raw+f':>10} {'queries sel/view':>16}")
    worst = worst_like = 0.0
    for q in QUERIES:
        for size in SIZES:
            expected = raw_ids(user, q, size)
            got = [h.topic.pk for h in search_page(user, q=q, filters=SearchFilters(), number=1,
                                                   page_size=size).hits]
            assert got == expected, f"{q!r}: the portal's page differs from the raw SQL's rows"
            raw = best_time(lambda q=q, size=size: raw_ids(user, q, size), args.repeat)
            raw_f = best_time(lambda q=q, size=size: raw_with_facets(user, q, size), args.repeat)
            page = best_time(lambda q=q, size=size: search_page(user, q=q, filters=SearchFilters(), number=1,
                                                                  page_size=size), args.repeat)
            selector = best_time(lambda q=q, size=size: catalogue_search(user=user, q=q, page_size=size),
                                   args.repeat)
            catalogue_views.PAGE_SIZE = size
            view = best_time(lambda q=q: client.get("/catalogue/", {"q": q}), args.repeat)
            total = catalogue_search(user=user, q=q, page_size=size).total
            sel_queries = count_queries(lambda q=q, size=size: catalogue_search(user=user, q=q, page_size=size))
            view_queries = count_queries(lambda q=q: client.get("/catalogue/", {"q": q}))
            worst, worst_like = max(worst, page / raw), max(worst_like, selector / raw_f)
            print(f"{q or '(browse)':20} {size:>4} {total:>5} {raw * 1e3:>6.1f} {raw_f * 1e3:>6.1f} "
                  f"{page * 1e3:>6.1f} {selector * 1e3:>6.1f} {view * 1e3:>6.1f} {page / raw:>8.2f} "
                  f"{selector / raw:>7.2f} {selector / raw_f:>9.2f} {view / raw_f:>10.2f} "
                  f"{sel_queries:>8}/{view_queries:<8}")
    print("times in ms (best of --repeat); raw = the page's rows in one statement; raw+f = rows, total and "
          "facet counts; page = search_page (count + page); select = catalogue_search (facets + page); "
          "view = GET /catalogue/")
    print(f"worst page/raw: {worst:.2f}; worst selector/(raw+facets): {worst_like:.2f} (goal <= 3)")


if __name__ == "__main__":
    main()
