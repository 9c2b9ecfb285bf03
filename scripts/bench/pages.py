"""Benchmark: the dashboard and the topic page as a team grows, against the raw SQL they need, in the same run.

  scripts/dev bench pages [--sizes 10,100,1000] [--groups 100] [--samples 60] [--repeat 7]

Runs in a database of its own (created, migrated and dropped here), so the portal's data is untouched. For each
size the team "bench" (the viewer owns it) has that many topics (a few failed and drifted), 100 consumer groups
with lag samples, traffic samples of every topic and of its dead-letter topics, and audit records; then the best
time of
- raw: the hand-written statements the page needs (the same sections, the same limits), run one after another,
  starting with the session's and the user's rows that every page reads;
- select: what the view computes before rendering: the session and the user, then selectors/dashboard.py, or
  the topic page's topic, header and tab (overview, the default, history and traffic);
- view: GET through the test client (session, middleware, HTML rendered);
with the ratios to raw (goal <= 3) and the view's query count (must not grow with the team). Beside them, the
page's database layer, so a ratio says which part misses the goal:
- sql: the time of the select step's statements as the ORM runs them (summed inside a
  ``connection.execute_wrapper``: the database plus the driver, without building the query or the rows);
- select is that sql plus the ORM building the queries and the rows or model instances from the results;
the rest of view (view - select) is the middleware and template rendering.
Once, it also times one narrow query through the ORM against the same statement by hand: the ratio no page of
small queries can beat, whatever its queries are.
"""

import argparse
import logging
import os
import sys
import time
from datetime import timedelta
from importlib import import_module
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user, get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from onboarding.models import (  # noqa: E402
    AuditEvent,
    ChangeRequest,
    Cluster,
    LagSample,
    Membership,
    Team,
    Topic,
    TopicTrafficSample,
)
from onboarding.selectors.dashboard import dashboard_for  # noqa: E402
from onboarding.selectors.topic_page import topic_header_for  # noqa: E402
from onboarding.views.topic_tabs import TAB_CONTEXT, header_context  # noqa: E402

# What the session middleware reads with: the engine the portal is configured with.
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
TEAM_IDS = "SELECT m.team_id FROM onboarding_membership m WHERE m.user_id = %(user)s"
KINDS = [("onboarding_topic", "team_id", "name"), ("onboarding_serviceaccount", "team_id", "username"),
         ("onboarding_connector", "team_id", "name"), ("onboarding_aggregation", "team_id", "name"),
         ("onboarding_mapping", "team_id", "name"), ("onboarding_subscription", "subscriber_id", "id::text")]
WRONG = " UNION ALL ".join(
    f"(SELECT '{table}', x.id, x.{name}, x.status, x.last_error, x.updated_at FROM {table} x "
    f"WHERE x.{team} = ANY(%(teams)s) AND x.status IN ('failed', 'drifted') ORDER BY x.updated_at DESC LIMIT 20)"
    for table, team, name in KINDS) + (
    " UNION ALL (SELECT 'schema', s.id, t.name, s.status, s.last_error, s.updated_at FROM onboarding_schema s "
    "JOIN onboarding_topic t ON t.id = s.topic_id WHERE t.team_id = ANY(%(teams)s) AND s.status IN "
    "('failed', 'drifted') ORDER BY s.updated_at DESC LIMIT 20)"
    " UNION ALL (SELECT 'binding', b.id, t.name, b.status, b.last_error, b.updated_at FROM "
    "onboarding_eventstorebinding b JOIN onboarding_topic t ON t.id = b.topic_id WHERE b.team_id = ANY(%(teams)s) "
    "AND b.status IN ('failed', 'drifted') ORDER BY b.updated_at DESC LIMIT 20)")
RAW_DASHBOARD = [
    "SELECT t.id, t.slug, t.name, t.contacts FROM onboarding_team t WHERE t.id = ANY(%(teams)s) ORDER BY t.name",
    "SELECT team_id, role FROM onboarding_membership WHERE user_id = %(user)s",
    "SELECT team_id, status, count(*) FROM onboarding_topic WHERE team_id = ANY(%(teams)s) AND status <> 'deleted' "
    "GROUP BY 1, 2",
    WRONG,
    "SELECT c.name, s.topic, max(s.end_offset) - min(s.end_offset) AS events FROM onboarding_topictrafficsample s "
    "JOIN onboarding_cluster c ON c.id = s.cluster_id WHERE s.topic LIKE ANY(%(prefixes)s) AND (s.topic LIKE "
    "'%%.dlq' OR s.topic LIKE '%%.late') AND s.sampled_at >= now() - interval '1 hour' GROUP BY 1, 2 "
    "HAVING max(s.end_offset) - min(s.end_offset) > 0 ORDER BY 3 DESC, 2 LIMIT 20",
    "SELECT * FROM (SELECT DISTINCT ON (s.cluster_id, s.group_id, s.topic) c.name, s.group_id, s.topic, s.lag "
    "FROM onboarding_lagsample s JOIN onboarding_cluster c ON c.id = s.cluster_id WHERE s.group_id LIKE "
    "ANY(%(prefixes)s) AND s.sampled_at >= now() - interval '3 minutes' ORDER BY s.cluster_id, s.group_id, s.topic, "
    "s.sampled_at DESC) latest WHERE lag >= 100 ORDER BY lag DESC LIMIT 20",
    "SELECT a.at, a.actor_name, a.via, a.action, a.resource_type, a.resource_name, t.slug FROM onboarding_auditevent "
    "a LEFT JOIN onboarding_team t ON t.id = a.team_id WHERE a.team_id = ANY(%(teams)s) ORDER BY a.at DESC, a.id DESC "
    "LIMIT 25",
    "SELECT t.id, EXISTS (SELECT 1 FROM onboarding_serviceaccount x WHERE x.team_id = t.id AND x.status <> "
    "'deleted'), (SELECT min(x.id) FROM onboarding_topic x WHERE x.team_id = t.id AND x.status <> 'deleted'), "
    "EXISTS (SELECT 1 FROM onboarding_schema x JOIN onboarding_topic y ON y.id = x.topic_id WHERE y.team_id = t.id "
    "AND x.status <> 'deleted'), EXISTS (SELECT 1 FROM onboarding_subscription x WHERE x.subscriber_id = t.id AND "
    "x.status <> 'deleted') FROM onboarding_team t WHERE t.id = ANY(%(teams)s) ORDER BY t.slug",
    "SELECT s.id, t.name, tm.slug FROM onboarding_subscription s JOIN onboarding_topic t ON t.id = s.source_id "
    "JOIN onboarding_team tm ON tm.id = s.subscriber_id WHERE s.decision = 'requested' AND s.requested_by_id <> "
    "%(user)s AND t.team_id IN (SELECT team_id FROM onboarding_membership WHERE user_id = %(user)s AND role = "
    "'owner') LIMIT 20",
    "SELECT r.id, r.group_id, t.name FROM onboarding_offsetreset r JOIN onboarding_topic t ON t.id = r.topic_id WHERE "
    "r.status = 'requested' AND r.requested_by_id <> %(user)s AND t.team_id IN (SELECT team_id FROM "
    "onboarding_membership WHERE user_id = %(user)s AND role = 'owner') LIMIT 20",
    "SELECT c.id, c.title FROM onboarding_changerequest c WHERE c.status = 'pending' AND c.requested_by_id <> "
    "%(user)s AND c.team_id IN (SELECT team_id FROM onboarding_membership WHERE user_id = %(user)s AND role = "
    "'owner') LIMIT 20",
    "SELECT id, title FROM onboarding_changerequest WHERE requested_by_id = %(user)s AND status = 'pending' LIMIT 20",
    "SELECT id FROM onboarding_subscription WHERE requested_by_id = %(user)s AND decision = 'requested' LIMIT 20",
    "SELECT id FROM onboarding_offsetreset WHERE requested_by_id = %(user)s AND status = 'requested' LIMIT 20",
]
# Every page first reads who asks: the session's row and the user's.
RAW_VIEWER = [
    "SELECT session_data FROM django_session WHERE session_key = %(session)s AND expire_date > now()",
    "SELECT * FROM auth_user WHERE id = %(user)s",
]
RAW_TOPIC_HEADER = [
    "SELECT t.*, tm.slug, c.name FROM onboarding_topic t JOIN onboarding_team tm ON tm.id = t.team_id JOIN "
    "onboarding_cluster c ON c.id = t.cluster_id WHERE t.id = %(topic)s",
    "SELECT a.id, a.name, tm.slug FROM onboarding_aggregation a JOIN onboarding_team tm ON tm.id = a.team_id WHERE "
    "a.output_id = %(topic)s AND a.status <> 'deleted' ORDER BY a.id DESC LIMIT 1",
    "SELECT role FROM onboarding_membership WHERE user_id = %(user)s AND team_id = %(team)s",
    "SELECT id, title, requested_by_id FROM onboarding_changerequest WHERE target_type = 'topic' AND target_id = "
    "%(topic_text)s AND status = 'pending' LIMIT 1",
    "SELECT s.id, s.decision FROM onboarding_subscription s JOIN onboarding_membership m ON m.team_id = "
    "s.subscriber_id WHERE s.source_id = %(topic)s AND m.user_id = %(user)s AND s.decision IN ('approved', "
    "'requested') ORDER BY s.decision LIMIT 1",
]
RAW_OVERVIEW = [
    "SELECT id, name, username, status FROM onboarding_serviceaccount WHERE team_id = %(team)s AND cluster_id = "
    "%(cluster)s AND status <> 'deleted' ORDER BY name",
    "SELECT s.*, tm.slug, sa.username, d.name, d.visibility, dt.slug FROM onboarding_subscription s JOIN "
    "onboarding_team tm ON tm.id = s.subscriber_id LEFT JOIN onboarding_serviceaccount sa ON sa.id = "
    "s.service_account_id LEFT JOIN onboarding_topic d ON d.id = s.destination_id LEFT JOIN onboarding_team dt ON "
    "dt.id = d.team_id WHERE s.source_id = %(topic)s AND s.decision = 'approved' AND s.delete_requested_at IS NULL "
    "ORDER BY tm.slug, s.id",
    "SELECT s.id, s.source_id, t.name, t.visibility, tm.slug FROM onboarding_subscription s JOIN onboarding_topic t "
    "ON t.id = s.source_id JOIN onboarding_team tm ON tm.id = t.team_id WHERE s.destination_id = %(topic)s AND "
    "s.decision = 'approved' AND s.delete_requested_at IS NULL ORDER BY t.name, s.id",
    "SELECT a.id, a.name, a.status, a.output_topic, a.source_id, a.output_id, tm.slug, s.name, s.visibility, st.slug, "
    "o.name, o.visibility, ot.slug FROM onboarding_aggregation a JOIN onboarding_team tm ON tm.id = a.team_id JOIN "
    "onboarding_topic s ON s.id = a.source_id JOIN onboarding_team st ON st.id = s.team_id LEFT JOIN onboarding_topic "
    "o ON o.id = a.output_id LEFT JOIN onboarding_team ot ON ot.id = o.team_id WHERE a.output_id = %(topic)s OR "
    "(a.source_id = %(topic)s AND a.status <> 'deleted') ORDER BY tm.slug, a.name, a.id",
    "SELECT m.id, m.name, m.source_topic_id, m.canonical_topic_id, tm.slug, v.number, s.name, s.visibility, st.slug, "
    "c.name, c.visibility, ct.slug FROM onboarding_mapping m JOIN onboarding_team tm ON tm.id = m.team_id LEFT JOIN "
    "onboarding_mappingversion v ON v.id = m.current_version_id JOIN onboarding_topic s ON s.id = m.source_topic_id "
    "JOIN onboarding_team st ON st.id = s.team_id JOIN onboarding_topic c ON c.id = m.canonical_topic_id JOIN "
    "onboarding_team ct ON ct.id = c.team_id WHERE (m.canonical_topic_id = %(topic)s OR m.source_topic_id = "
    "%(topic)s) AND m.status <> 'deleted' AND m.delete_requested_at IS NULL ORDER BY tm.slug, m.name",
]
RAW_HISTORY = ["SELECT * FROM onboarding_applyattempt WHERE topic_id = %(topic)s ORDER BY started_at DESC LIMIT 20"]
RAW_TRAFFIC = [
    "SELECT sampled_at, end_offset, size_bytes FROM onboarding_topictrafficsample WHERE cluster_id = %(cluster)s AND "
    "topic = %(name)s AND sampled_at >= now() - interval '7 days' ORDER BY sampled_at",
]


def own_database():
    connection.settings_dict["TEST"]["NAME"] = f"bench_pages_{os.getpid()}"
    setup_test_environment()
    old = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    return old


def seed_base(groups: int):
    cluster = Cluster.objects.create(name="bench-dev", environment="dev", bootstrap_servers="127.0.0.1:1")
    team = Team.objects.create(slug="bench", name="Bench team")
    other = Team.objects.create(slug="other", name="Other team")
    user = get_user_model().objects.create_user("bench-owner", password="x")
    Membership.objects.create(user=user, team=team, role=Membership.Role.OWNER)
    now = timezone.now()
    LagSample.objects.bulk_create([
        LagSample(cluster=cluster, group_id=f"bench.group-{g:03d}", topic=f"bench.t{g:05d}",
                  sampled_at=now - timedelta(minutes=m), lag=(g * 37) % 500) for g in range(groups) for m in range(5)],
        batch_size=5000)
    AuditEvent.objects.bulk_create([
        AuditEvent(actor_name="bench-owner", via="browser", action="topic.update", resource_type="topic",
                   resource_id=str(n), resource_name=f"bench.t{n:05d}", team=team if n % 2 else other)
        for n in range(2000)], batch_size=2000)
    return cluster, team, user


def grow(cluster, team, upto: int, samples: int) -> Topic:
    """Topics up to ``upto`` (every 20th failed, every 20th+1 drifted), each with ``samples`` traffic samples a
    minute apart, and every 10th with a dead-letter topic's samples."""
    have = Topic.objects.filter(team=team).count()
    states = {0: "failed", 1: "drifted"}
    made = Topic.objects.bulk_create([
        Topic(cluster=cluster, team=team, name=f"bench.t{n:05d}", collision_key=f"bench_t{n:05d}", partitions=1,
              replication_factor=1, status=states.get(n % 20, "ready"), last_error="x" if n % 20 < 2 else "")
        for n in range(have, upto)], batch_size=2000)
    now = timezone.now()
    rows = []
    for topic in made:
        number = int(topic.name[-5:])
        names = [topic.name] + ([f"{topic.name}.dlq"] if number % 10 == 0 else [])
        rows += [TopicTrafficSample(cluster=cluster, topic=name, sampled_at=now - timedelta(minutes=samples - s),
                                    end_offset=number + s * (10 if name == topic.name else 1), size_bytes=s * 4096)
                 for name in names for s in range(samples)]
    TopicTrafficSample.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Topic.objects.filter(team=team).order_by("pk").first()


def best_time(run, repeat: int) -> float:
    """The fastest of ``repeat`` runs after a warm-up: on a shared machine the others measure the neighbours."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def run_raw(statements, params):
    def run():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
    return run


def best_sql_time(run, repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``run`` counting only the time inside the connection's execute calls."""
    spent: list[float] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - started)

    totals = []
    with connection.execute_wrapper(timed):
        run()
        for _ in range(repeat):
            spent.clear()
            run()
            totals.append(sum(spent))
    return min(totals)


def count_queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def slowest(run, top: int = 3) -> str:
    """The ``top`` slowest statements of one run of ``run``, to see where a ratio comes from."""
    with CaptureQueriesContext(connection) as captured:
        run()
    ranked = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:top]
    return "; ".join(f"{float(q['time']) * 1000:.1f} ms {q['sql'][:90]}" for q in ranked)


def orm_floor(topic, params, repeat):
    """What one statement costs through the ORM against the same statement by hand: a page of N queries cannot
    come closer to its raw SQL than this, whatever its queries are."""
    def orm():
        ChangeRequest.objects.filter(target_type="topic", target_id=str(topic.pk), status="pending").only(
            "pk", "title", "requested_by_id").first()

    raw = run_raw(["SELECT id, title, requested_by_id FROM onboarding_changerequest WHERE target_type = 'topic' AND "
                   "target_id = %(topic_text)s AND status = 'pending' ORDER BY created_at DESC, id DESC LIMIT 1"],
                  params)
    t_raw, t_orm = best_time(raw, repeat * 10), best_time(orm, repeat * 10)
    print(f"  one narrow query: raw {t_raw * 1000:.2f} ms, through the ORM {t_orm * 1000:.2f} ms "
          f"({t_orm / t_raw:.1f}x): the ORM's floor for a page of small queries")


def measure(name, raw, select, view, repeat, show_slowest=False) -> tuple[str, float]:
    t_raw, t_select, t_view = best_time(raw, repeat), best_time(select, repeat), best_time(view, repeat)
    t_sql = best_sql_time(select, repeat)
    queries = count_queries(view)
    if show_slowest:
        print(f"    slowest of {name}: {slowest(select)}")
    print(f"  {name:<16} raw {t_raw * 1000:6.2f} ms  sql {t_sql * 1000:6.2f} ms ({t_sql / t_raw:4.1f}x)  "
          f"select {t_select * 1000:6.2f} ms ({t_select / t_raw:4.1f}x)  view {t_view * 1000:6.2f} ms "
          f"({t_view / t_raw:4.1f}x)  queries {queries}")
    return name, queries, t_sql / t_raw, t_select / t_raw, t_view / t_raw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--samples", type=int, default=60, help="Traffic samples per topic (a minute apart).")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--slowest", action="store_true", help="Print each selector's slowest statements.")
    args = parser.parse_args()
    settings.DEBUG = False
    logging.getLogger("portal.access").setLevel(logging.WARNING)
    old_name = own_database()
    try:
        cluster, team, user = seed_base(args.groups)
        client = Client()
        client.force_login(user)
        factory = RequestFactory()
        counts: dict[str, list[int]] = {}
        worst = {"sql": 0.0, "select": 0.0, "view": 0.0}
        sizes = [int(s) for s in args.sizes.split(",")]
        for size in sizes:
            topic = grow(cluster, team, size, args.samples)
            print(f"team of {size} topics, {args.groups} groups, {args.samples} traffic samples per topic:")
            params = {"user": user.pk, "teams": [team.pk], "prefixes": ["bench.%"], "topic": topic.pk,
                      "topic_text": str(topic.pk), "team": team.pk, "cluster": cluster.pk, "name": topic.name,
                      "session": client.session.session_key}
            request = factory.get("/")
            detail = f"/topics/{topic.pk}/"

            def viewer(request=request, session_key=params["session"]):
                """What the session and authentication middleware read before any view runs."""
                request.session = SessionStore(session_key)
                request.user = get_user(request)
                return request.user

            def topic_select(tab, topic_pk=topic.pk, request=request):
                def run():
                    header = topic_header_for(viewer(), topic_pk)
                    TAB_CONTEXT[tab](request, header.topic, header_context(request, header))
                    return header.topic.managed_by  # the header asks it while rendering
                return run

            rows = [
                measure("dashboard", run_raw(RAW_VIEWER + RAW_DASHBOARD, params), lambda: dashboard_for(viewer()),
                        lambda: client.get("/"), args.repeat, args.slowest),
                *(measure(f"topic {tab}", run_raw(RAW_VIEWER + RAW_TOPIC_HEADER + statements, params),
                          topic_select(tab), lambda url=f"{detail}?tab={tab}": client.get(url), args.repeat,
                          args.slowest)
                  for tab, statements in (("overview", RAW_OVERVIEW), ("history", RAW_HISTORY),
                                          ("traffic", RAW_TRAFFIC))),
            ]
            if size == sizes[0]:
                orm_floor(topic, params, args.repeat)
            for name, queries, *ratios in rows:
                counts.setdefault(name, []).append(queries)
                for part, ratio in zip(("sql", "select", "view"), ratios, strict=True):
                    worst[part] = max(worst[part], ratio)
        constant = all(len(set(c)) == 1 for c in counts.values())
        print(f"query counts by size: {counts} -> {'constant' if constant else 'GROWING'}")
        print(f"worst sql/raw: {worst['sql']:.1f}x (the ORM's statements in the database); worst select/raw: "
              f"{worst['select']:.1f}x (plus building queries and rows); worst view/raw: {worst['view']:.1f}x "
              f"(plus session, middleware, template) (goal <= 3)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
