"""The dashboard's requests in one statement: what waits for the viewer's decision (subscriptions, offset resets
and change requests) and what the viewer asked for that still waits on someone else.

Through the ORM these were six queries joining three or four tables each, and compiling them cost several times
what Postgres spent answering them (scripts/bench/pages.py). The rules are those of the selectors this stands
for, and a test holds the two to the same rows: ``pending_approvals_for`` and ``change_requests_awaiting``, the
offset resets of topics the viewer owns, and the viewer's own waiting requests.
"""

from __future__ import annotations

from onboarding.models import ChangeRequest, OffsetReset, Subscription
from onboarding.permissions import is_operator
from onboarding.selectors.model_rows import instance_from_json, json_columns, or_null, team_json

SECTION_LIMIT = 20
# Who asked: a left join, null once the account is gone.
USER = "jsonb_build_object('id', u.id, 'username', u.username)"
REQUESTER = f"'requested_by', {or_null('u', USER)}"
# What describe_target reads, and the topic the reset moves the group on.
RESET = ("'id', x.id, 'group_id', x.group_id, 'topic_id', x.topic_id, 'strategy', x.strategy, "
         "'timestamp', x.\"timestamp\", 'shift', x.shift, 'offset', x.\"offset\", "
         "'topic', jsonb_build_object('id', t.id, 'name', t.name)")
# The teams the viewer owns: where they decide (operators decide everywhere).
OWNED = "(SELECT m.team_id FROM onboarding_membership m WHERE m.user_id = %(user)s AND m.role = 'owner')"
NOT_MINE = "(x.requested_by_id IS NULL OR x.requested_by_id <> %(user)s)"

SECTIONS = {
    "waiting": f"""
      SELECT jsonb_build_object('id', x.id, 'mode', x.mode, 'reason', x.reason,
               'source', jsonb_build_object('id', t.id, 'name', t.name), 'subscriber', {team_json('tm')},
               {REQUESTER}) AS doc, x.created_at AS k1, x.id AS k2
      FROM onboarding_subscription x JOIN onboarding_topic t ON t.id = x.source_id
      JOIN onboarding_team tm ON tm.id = x.subscriber_id LEFT JOIN auth_user u ON u.id = x.requested_by_id
      WHERE x.decision = 'requested' AND {NOT_MINE} AND (%(everyone)s OR t.team_id IN {OWNED})
      ORDER BY x.created_at DESC, x.id DESC LIMIT {SECTION_LIMIT}""",
    "waiting_resets": f"""
      SELECT jsonb_build_object({RESET}, 'team', {team_json('tm')},
               {REQUESTER}) AS doc, x.requested_at AS k1, x.id AS k2
      FROM onboarding_offsetreset x
      JOIN onboarding_topic t ON t.id = x.topic_id JOIN onboarding_team tm ON tm.id = x.team_id
      LEFT JOIN auth_user u ON u.id = x.requested_by_id
      WHERE x.status = 'requested' AND {NOT_MINE} AND (%(everyone)s OR t.team_id IN {OWNED})
      ORDER BY x.requested_at DESC, x.id DESC LIMIT {SECTION_LIMIT}""",
    "waiting_changes": f"""
      SELECT jsonb_build_object('id', x.id, 'title', x.title, 'expires_at', x.expires_at,
               'team', {team_json('tm')}, 'cluster', jsonb_build_object('id', c.id, 'name', c.name),
               {REQUESTER}) AS doc, x.created_at AS k1, x.id AS k2
      FROM onboarding_changerequest x JOIN onboarding_team tm ON tm.id = x.team_id
      JOIN onboarding_cluster c ON c.id = x.cluster_id LEFT JOIN auth_user u ON u.id = x.requested_by_id
      WHERE x.status = 'pending' AND {NOT_MINE}
        AND (%(everyone)s OR (x.team_id IN {OWNED} AND EXISTS (
          SELECT 1 FROM onboarding_changepolicy p WHERE p.cluster_id = x.cluster_id
            AND p.approvers = 'owners_or_operators')))
      ORDER BY x.created_at DESC, x.id DESC LIMIT {SECTION_LIMIT}""",
    "mine_changes": f"""
      SELECT jsonb_build_object('id', x.id, 'title', x.title, 'team', {team_json('tm')},
               'cluster', jsonb_build_object('id', c.id, 'name', c.name)) AS doc, x.created_at AS k1, x.id AS k2
      FROM onboarding_changerequest x JOIN onboarding_team tm ON tm.id = x.team_id
      JOIN onboarding_cluster c ON c.id = x.cluster_id
      WHERE x.requested_by_id = %(user)s AND x.status = 'pending'
      ORDER BY x.created_at DESC, x.id DESC LIMIT {SECTION_LIMIT}""",
    "mine_subscriptions": f"""
      SELECT jsonb_build_object('id', x.id, 'subscriber', {team_json('tm')},
               'source', jsonb_build_object('id', t.id, 'name', t.name, 'team', {team_json('st')})) AS doc,
             x.created_at AS k1, x.id AS k2
      FROM onboarding_subscription x JOIN onboarding_team tm ON tm.id = x.subscriber_id
      JOIN onboarding_topic t ON t.id = x.source_id JOIN onboarding_team st ON st.id = t.team_id
      WHERE x.requested_by_id = %(user)s AND x.decision = 'requested'
      ORDER BY x.created_at DESC, x.id DESC LIMIT {SECTION_LIMIT}""",
    "mine_resets": f"""
      SELECT jsonb_build_object({RESET}) AS doc, x.requested_at AS k1, x.id AS k2
      FROM onboarding_offsetreset x
      JOIN onboarding_topic t ON t.id = x.topic_id
      WHERE x.requested_by_id = %(user)s AND x.status = 'requested'
      ORDER BY x.requested_at DESC, x.id DESC LIMIT {SECTION_LIMIT}""",
}
MODELS = {"waiting": Subscription, "waiting_resets": OffsetReset, "waiting_changes": ChangeRequest,
          "mine_changes": ChangeRequest, "mine_subscriptions": Subscription, "mine_resets": OffsetReset}
# Each section's rows as one JSON array, in the section's order (newest first); one row of six arrays.
STATEMENT = "SELECT " + ",\n".join(
    f"(SELECT coalesce(jsonb_agg(q.doc ORDER BY q.k1 DESC, q.k2 DESC), '[]') FROM ({sql}) q) AS {name}"
    for name, sql in SECTIONS.items())


def dashboard_requests(user) -> dict[str, list]:
    """The six sections' rows as model instances with only what the dashboard shows (and their related rows, as
    ``select_related`` would load them)."""
    arrays = json_columns(STATEMENT, {"user": user.pk, "everyone": is_operator(user)})
    return {name: [instance_from_json(MODELS[name], row) for row in array]
            for name, array in zip(SECTIONS, arrays, strict=True)}
