"""The topic page's header in one statement: the topic with its team and cluster, the viewer's roles, the change
request waiting on the topic, the viewer's own subscription to it and the aggregation that manages it.

Through the ORM these were five queries, and compiling them cost several times what Postgres spent answering
them (scripts/bench/pages.py). Every page of the topic reads them, so they are written by hand here, once, with
the same rules as the selectors they stand for: ``topics_visible_to``, ``roles_of``, ``Topic.managed_by``.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.errors import NotFound
from onboarding.models import Aggregation, ChangeRequest, Subscription, Topic
from onboarding.permissions import is_operator, remember_roles
from onboarding.selectors.model_rows import instance_from_json, json_columns, team_json

HEADER_SQL = f"""
SELECT to_jsonb(t), to_jsonb(tm), to_jsonb(c),
  (SELECT coalesce(jsonb_object_agg(m.team_id, m.role), '{{}}') FROM onboarding_membership m
    WHERE m.user_id = %(user)s),
  (SELECT jsonb_build_object('id', cr.id, 'title', cr.title, 'requested_by_id', cr.requested_by_id)
    FROM onboarding_changerequest cr
    WHERE cr.target_type = 'topic' AND cr.target_id = t.id::text AND cr.status = 'pending'
    ORDER BY cr.created_at DESC, cr.id DESC LIMIT 1),
  (SELECT jsonb_build_object('id', s.id, 'decision', s.decision) FROM onboarding_subscription s
    WHERE s.source_id = t.id AND s.delete_requested_at IS NULL AND s.decision IN ('approved', 'requested')
      AND s.subscriber_id IN (SELECT m.team_id FROM onboarding_membership m WHERE m.user_id = %(user)s)
    ORDER BY s.decision LIMIT 1),
  (SELECT jsonb_build_object('id', a.id, 'name', a.name, 'team_id', a.team_id, 'team', {team_json('at')})
    FROM onboarding_aggregation a JOIN onboarding_team at ON at.id = a.team_id
    WHERE a.output_id = t.id AND a.status <> 'deleted' ORDER BY a.id DESC LIMIT 1)
FROM onboarding_topic t
JOIN onboarding_team tm ON tm.id = t.team_id
JOIN onboarding_cluster c ON c.id = t.cluster_id
WHERE t.id = %(topic)s
  AND (%(everyone)s OR t.visibility = 'public'
       OR t.team_id IN (SELECT m.team_id FROM onboarding_membership m WHERE m.user_id = %(user)s))
"""


@dataclass(frozen=True)
class TopicHeader:
    topic: Topic
    # Only what the banner and the buttons show: (id, title, requested_by_id) and (id, decision).
    open_change: ChangeRequest | None
    own_subscription: Subscription | None


def topic_header_for(user, pk) -> TopicHeader:
    """The topic as ``topic_for`` finds it (a private topic of another team is 'not found'), with what its
    header needs. Remembers the viewer's roles for the permission checks that follow."""
    try:
        topic_pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such topic.") from None
    row = json_columns(HEADER_SQL, {"user": user.pk, "topic": topic_pk, "everyone": is_operator(user)})
    if row is None:
        raise NotFound("No such topic.")
    topic_row, team_row, cluster_row, roles, change, subscription, managing = row
    remember_roles(user, {int(team_id): role for team_id, role in roles.items()})
    topic = instance_from_json(Topic, {**topic_row, "team": team_row, "cluster": cluster_row})
    # The model's cached property, already answered.
    topic.__dict__["managed_by"] = instance_from_json(Aggregation, managing)
    return TopicHeader(topic=topic, open_change=instance_from_json(ChangeRequest, change),
                       own_subscription=instance_from_json(Subscription, subscription))
