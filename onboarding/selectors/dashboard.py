"""What the dashboard shows a viewer across their teams, each section a fixed number of queries whatever the
number of topics, groups or samples (the pages benchmark and a query-count test hold that)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.db.models import F, IntegerField, Max, Min, Q, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from onboarding.choices import ResourceStatus
from onboarding.models import (
    Aggregation,
    Connector,
    EventStoreBinding,
    LagSample,
    Mapping,
    Schema,
    ServiceAccount,
    Subscription,
    Team,
    Topic,
    TopicTrafficSample,
)
from onboarding.selectors.dashboard_requests import SECTION_LIMIT, dashboard_requests
from onboarding.selectors.dashboard_teams import FirstSteps, dashboard_teams

WRONG = (ResourceStatus.FAILED, ResourceStatus.DRIFTED)
# A group is lagging when its latest sample is at least this far behind; smaller lags come and go with every
# poll of a healthy consumer.
LAGGING_AT = 100
# Dead-letter topics are the ones the routers, mappers, the event-store sink (".dlq") and aggregations
# (".late") write what they could not handle to.
DEAD_LETTER_SUFFIXES = (".dlq", ".late")


@dataclass(frozen=True)
class WrongResource:
    kind: str
    name: str
    team: str
    status: str
    status_label: str
    error: str
    url: str
    updated_at: object


def _link(kind: str, row: dict) -> str:
    if kind == "topic":
        return reverse("onboarding:topic_detail", args=[row["pk"]])
    if kind == "schema":
        return reverse("onboarding:schema_page", args=[row["topic_id"], row["side"]])
    if kind == "service account":
        return reverse("onboarding:service_accounts", args=[row["team"]])
    if kind == "event-store binding":
        return reverse("onboarding:topic_detail", args=[row["topic_id"]])  # a binding lives on its topic's page
    return reverse(f"onboarding:{kind}_detail", args=[row["pk"]])  # subscription, connector, aggregation, mapping


def _wrong_rows(kind: str, qs, *, name, team, topic_id=None, side=None):
    """One kind's failed and drifted rows as the same columns, newest first and bounded, for one UNION."""
    return (qs.filter(status__in=WRONG).order_by("-updated_at")
            .values("pk", "status", "last_error", "updated_at")
            .annotate(kind=Value(kind), shown=name, team_slug=team,
                      topic_ref=topic_id if topic_id is not None else Value(None, output_field=IntegerField()),
                      side_ref=side if side is not None else Value(""))
            [:SECTION_LIMIT])


def _wrong_union(team_ids: list[int]):
    """The UNION ALL of every kind's failed and drifted rows of the teams, as one values() queryset."""
    parts = [
        _wrong_rows("topic", Topic.objects.filter(team_id__in=team_ids), name=F("name"), team=F("team__slug")),
        _wrong_rows("schema", Schema.objects.filter(topic__team_id__in=team_ids),
                    name=Concat(F("topic__name"), Value(" ("), F("side"), Value(")")), team=F("topic__team__slug"),
                    topic_id=F("topic_id"), side=F("side")),
        _wrong_rows("service account", ServiceAccount.objects.filter(team_id__in=team_ids), name=F("username"),
                    team=F("team__slug")),
        _wrong_rows("subscription", Subscription.objects.filter(subscriber_id__in=team_ids),
                    name=Concat(F("subscriber__slug"), Value(" ← "), F("source__name")),
                    team=F("subscriber__slug")),
        _wrong_rows("connector", Connector.objects.filter(team_id__in=team_ids), name=F("name"),
                    team=F("team__slug")),
        _wrong_rows("aggregation", Aggregation.objects.filter(team_id__in=team_ids), name=F("name"),
                    team=F("team__slug")),
        _wrong_rows("mapping", Mapping.objects.filter(team_id__in=team_ids), name=F("name"), team=F("team__slug")),
        _wrong_rows("event-store binding", EventStoreBinding.objects.filter(team_id__in=team_ids),
                    name=F("topic__name"), team=F("team__slug"), topic_id=F("topic_id")),
    ]
    return parts[0].union(*parts[1:], all=True)


@lru_cache(maxsize=32)
def _wrong_statement(teams: int) -> tuple[str, tuple, list[str], frozenset[int]]:
    """The UNION's SQL for ``teams`` team ids, compiled once per process and count of teams: compiling its
    eight annotated parts cost more than running them. The ids are compiled as placeholder values (negative,
    so no other parameter is one) that wrong_resources swaps for the viewer's teams."""
    placeholders = [-1 - n for n in range(teams)]
    union = _wrong_union(placeholders)
    sql, params = union.query.sql_with_params()
    # The names values() gives the columns (Django's ValuesIterable reads them the same way).
    columns = list(union.query.selected or [*union.query.values_select, *union.query.annotation_select])
    return sql, tuple(params), columns, frozenset(placeholders)


def wrong_resources(team_ids: list[int]) -> list[WrongResource]:
    """Failed and drifted resources of the teams of every kind, newest first: one UNION ALL of bounded parts."""
    if not team_ids:
        return []
    sql, params, columns, placeholders = _wrong_statement(len(team_ids))
    ids = dict(zip(range(-1, -1 - len(team_ids), -1), team_ids, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids[p] if type(p) is int and p in placeholders else p for p in params])
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    labels = dict(ResourceStatus.choices)
    found = [WrongResource(r["kind"], r["shown"], r["team_slug"], r["status"], labels.get(r["status"], r["status"]),
                           r["last_error"], _link(r["kind"], {**r, "team": r["team_slug"], "topic_id": r["topic_ref"],
                                                               "side": r["side_ref"]}), r["updated_at"])
             for r in rows]
    return sorted(found, key=lambda r: r.updated_at, reverse=True)[:SECTION_LIMIT]


def _prefixed(field: str, slugs: list[str]) -> Q:
    """Rows whose ``field`` starts with one of the teams' ``<slug>.`` prefixes (nothing for no team)."""
    query = Q(pk__in=[])
    for slug in slugs:
        query |= Q(**{f"{field}__startswith": f"{slug}."})
    return query


def dead_lettered(slugs: list[str], *, now=None) -> list[dict]:
    """Events the teams' dead-letter topics gained in the last hour: the growth of their end offsets between
    the hour's first and last samples. One grouped query."""
    since = (now or timezone.now()) - timedelta(hours=1)
    suffixes = Q(pk__in=[])
    for suffix in DEAD_LETTER_SUFFIXES:
        suffixes |= Q(topic__endswith=suffix)
    rows = (TopicTrafficSample.objects.filter(_prefixed("topic", slugs), suffixes, sampled_at__gte=since)
            .values("cluster__name", "topic").annotate(events=Max("end_offset") - Min("end_offset"))
            .filter(events__gt=0).order_by("-events", "topic")[:SECTION_LIMIT])
    return [{"cluster": r["cluster__name"], "topic": r["topic"], "events": r["events"]} for r in rows]


def lagging_groups(slugs: list[str], *, now=None) -> list[dict]:
    """The teams' groups whose latest lag sample (of the last few sampling rounds) is LAGGING_AT or more."""
    since = (now or timezone.now()) - timedelta(seconds=3 * settings.LAG_SAMPLE_SECONDS)
    latest = (LagSample.objects.filter(_prefixed("group_id", slugs), sampled_at__gte=since)
              .order_by("cluster_id", "group_id", "topic", "-sampled_at")
              .distinct("cluster_id", "group_id", "topic").values("cluster__name", "group_id", "topic", "lag"))
    rows = [r for r in latest if r["lag"] >= LAGGING_AT]
    rows.sort(key=lambda r: (-r["lag"], r["group_id"]))
    return [{"cluster": r["cluster__name"], "group_id": r["group_id"], "topic": r["topic"], "lag": r["lag"]}
            for r in rows[:SECTION_LIMIT]]


def onboarding_checklists(teams: list[Team], first_steps: dict[int, FirstSteps]) -> list[dict]:
    """For each team that has not yet done all four first steps: the steps, ticked when done, each with the
    page that does it."""
    lists = []
    for team in sorted(teams, key=lambda t: t.slug):
        done = first_steps[team.pk]
        create_topic = f"{reverse('onboarding:topic_create')}?team={team.pk}"
        steps = [
            ("A service account", done.has_account, reverse("onboarding:service_accounts", args=[team.slug])),
            ("A first topic", done.first_topic is not None, create_topic),
            ("A schema for a topic", done.has_schema,
             reverse("onboarding:schema_page", args=[done.first_topic, "value"]) if done.first_topic
             else create_topic),
            ("A subscription to another team's topic", done.has_subscription, reverse("onboarding:catalogue")),
        ]
        if not all(ticked for _, ticked, _ in steps):
            lists.append({"team": team, "steps": steps})
    return lists


def dashboard_for(user) -> dict:
    shown, requests = dashboard_teams(user), dashboard_requests(user)
    team_ids, slugs = [t.pk for t in shown.teams], [t.slug for t in shown.teams]
    return {
        "teams": shown.teams,
        "roles": shown.roles,
        "counts": shown.counts,
        "waiting": requests["waiting"],
        "waiting_resets": requests["waiting_resets"],
        "waiting_changes": requests["waiting_changes"],
        "mine": {"changes": requests["mine_changes"], "subscriptions": requests["mine_subscriptions"],
                 "resets": requests["mine_resets"]},
        "wrong": wrong_resources(team_ids),
        "dead_letters": dead_lettered(slugs),
        "lagging": lagging_groups(slugs),
        "activity": shown.activity,
        "checklists": onboarding_checklists(shown.teams, shown.first_steps),
    }
