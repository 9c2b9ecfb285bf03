"""What the lineage picture draws around a topic, in one statement: the team's producers, the live routed and
direct readers, the topics routed into it, the aggregations of it or into it, and the mappings of it or into it.

Through the ORM these were five queries, each joining three to six tables for whole rows, and compiling them
cost the overview tab (the topic page's default) several times what Postgres spent on them
(scripts/bench/pages.py). The rules are those of ``topic_producers`` and ``topic_readers`` (selectors/topics.py),
which the access tab still uses, and of the topic's approved, live routed subscriptions; a test holds the
statement to them. Each row carries only what the picture shows: names, visibility and teams, read into model instances.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.models import Aggregation, Mapping, ServiceAccount, Subscription, Topic
from onboarding.selectors.model_rows import instance_from_json, json_columns, or_null, team_json


def _topic(alias: str, team: str) -> str:
    """A topic as a node shows it: name, visibility and team (its link and whether the viewer may see it)."""
    return (f"jsonb_build_object('id', {alias}.id, 'name', {alias}.name, 'visibility', {alias}.visibility, "
            f"'team_id', {alias}.team_id, 'team', {team_json(team)})")


SECTIONS = {
    # The owning team's live accounts on the topic's cluster get WRITE on the team's prefix (access_plan).
    "producers": """
      SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'username', x.username, 'status', x.status)
                                ORDER BY x.name), '[]')
      FROM onboarding_serviceaccount x
      WHERE %(prefixed)s AND x.team_id = %(team)s AND x.cluster_id = %(cluster)s AND x.status <> 'deleted'""",
    "readers": f"""
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', x.id, 'mode', x.mode, 'filter', x.filter, 'source_id', x.source_id,
               'subscriber', {team_json('tm')},
               'service_account', {or_null('sa', "jsonb_build_object('id', sa.id, 'username', sa.username)")},
               'destination', {or_null('d', _topic('d', 'dt'))}) ORDER BY tm.slug, x.id), '[]')
      FROM onboarding_subscription x JOIN onboarding_team tm ON tm.id = x.subscriber_id
      LEFT JOIN onboarding_serviceaccount sa ON sa.id = x.service_account_id
      LEFT JOIN onboarding_topic d ON d.id = x.destination_id LEFT JOIN onboarding_team dt ON dt.id = d.team_id
      WHERE x.source_id = %(topic)s AND x.decision = 'approved' AND x.delete_requested_at IS NULL""",
    "sources": f"""
      SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'source_id', x.source_id,
                                                   'source', {_topic('s', 'st')}) ORDER BY s.name, x.id), '[]')
      FROM onboarding_subscription x JOIN onboarding_topic s ON s.id = x.source_id
      JOIN onboarding_team st ON st.id = s.team_id
      WHERE x.destination_id = %(topic)s AND x.decision = 'approved'
        AND x.delete_requested_at IS NULL""",
    "aggregations": f"""
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', x.id, 'name', x.name, 'status', x.status, 'cluster_id', x.cluster_id, 'team_id', x.team_id,
               'output_topic', x.output_topic, 'source_id', x.source_id, 'output_id', x.output_id,
               'team', {team_json('tm')}, 'source', {_topic('s', 'st')}, 'output', {or_null('o', _topic('o', 'ot'))})
             ORDER BY tm.slug, x.name, x.id), '[]')
      FROM onboarding_aggregation x JOIN onboarding_team tm ON tm.id = x.team_id
      JOIN onboarding_topic s ON s.id = x.source_id JOIN onboarding_team st ON st.id = s.team_id
      LEFT JOIN onboarding_topic o ON o.id = x.output_id LEFT JOIN onboarding_team ot ON ot.id = o.team_id
      WHERE x.output_id = %(topic)s OR (x.source_id = %(topic)s AND x.status <> 'deleted')""",
    "mappings": f"""
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', x.id, 'name', x.name, 'team_id', x.team_id, 'team', {team_json('tm')},
               'source_topic_id', x.source_topic_id, 'canonical_topic_id', x.canonical_topic_id,
               'current_version', {or_null('v', "jsonb_build_object('id', v.id, 'number', v.number)")},
               'source_topic', {_topic('s', 'st')}, 'canonical_topic', {_topic('c', 'ct')})
             ORDER BY tm.slug, x.name), '[]')
      FROM onboarding_mapping x JOIN onboarding_team tm ON tm.id = x.team_id
      LEFT JOIN onboarding_mappingversion v ON v.id = x.current_version_id
      JOIN onboarding_topic s ON s.id = x.source_topic_id JOIN onboarding_team st ON st.id = s.team_id
      JOIN onboarding_topic c ON c.id = x.canonical_topic_id JOIN onboarding_team ct ON ct.id = c.team_id
      WHERE (x.canonical_topic_id = %(topic)s OR x.source_topic_id = %(topic)s) AND x.status <> 'deleted'
        AND x.delete_requested_at IS NULL""",
}
MODELS = {"producers": ServiceAccount, "readers": Subscription, "sources": Subscription,
          "aggregations": Aggregation, "mappings": Mapping}
STATEMENT = "SELECT " + ",\n".join(f"({sql}) AS {name}" for name, sql in SECTIONS.items())


@dataclass(frozen=True)
class TopicNeighbours:
    producers: list[ServiceAccount]
    readers: list[Subscription]  # approved and live, direct and routed
    sources: list[Subscription]  # approved, live routed subscriptions into the topic
    aggregations: list[Aggregation]  # those whose output it is (any state) and the live ones of it
    mappings: list[Mapping]  # live, of it or into it


def topic_neighbours(topic: Topic) -> TopicNeighbours:
    params = {"topic": topic.pk, "team": topic.team_id, "cluster": topic.cluster_id,
              # Producers write on the team's prefix: a topic outside it has none.
              "prefixed": topic.name.startswith(f"{topic.team.slug}.")}
    arrays = json_columns(STATEMENT, params)
    return TopicNeighbours(**{name: [instance_from_json(MODELS[name], row) for row in array]
                              for name, array in zip(SECTIONS, arrays, strict=True)})
