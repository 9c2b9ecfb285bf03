"""The dashboard's teams in one statement: the viewer's teams (every team, for an operator) with the viewer's role,
their live topics by status, the four first steps a new team takes, and the teams' latest audit records.

Through the ORM these were four queries (teams and roles, topic counts, the checklist's EXISTS per step, the
activity), and compiling them cost more than Postgres spent on them (scripts/bench/pages.py). A test holds the
statement to the rules written with the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.models import AuditEvent, Team
from onboarding.permissions import is_operator
from onboarding.selectors.model_rows import instance_from_json, json_columns, team_json

ACTIVITY_LIMIT = 25
LIVE = "x.status <> 'deleted'"
STATEMENT = f"""
WITH shown AS (
  SELECT t.id, t.slug, t.name, t.contacts, m.role
  FROM onboarding_team t LEFT JOIN onboarding_membership m ON m.team_id = t.id AND m.user_id = %(user)s
  WHERE %(everyone)s OR m.id IS NOT NULL
)
SELECT
  (SELECT coalesce(jsonb_agg(jsonb_build_object(
     'id', s.id, 'slug', s.slug, 'name', s.name, 'contacts', s.contacts, 'role', s.role,
     'counts', (SELECT coalesce(jsonb_object_agg(c.status, c.n), '{{}}') FROM (
                  SELECT x.status, count(*) AS n FROM onboarding_topic x WHERE x.team_id = s.id AND {LIVE}
                  GROUP BY x.status) c),
     'has_account', EXISTS (SELECT 1 FROM onboarding_serviceaccount x WHERE x.team_id = s.id AND {LIVE}),
     'first_topic', (SELECT min(x.id) FROM onboarding_topic x WHERE x.team_id = s.id AND {LIVE}),
     'has_schema', EXISTS (SELECT 1 FROM onboarding_schema x JOIN onboarding_topic y ON y.id = x.topic_id
                           WHERE y.team_id = s.id AND {LIVE}),
     'has_subscription', EXISTS (SELECT 1 FROM onboarding_subscription x WHERE x.subscriber_id = s.id AND {LIVE})
   ) ORDER BY s.name, s.id), '[]') FROM shown s),
  (SELECT coalesce(jsonb_agg(a.doc ORDER BY a.at DESC, a.id DESC), '[]') FROM (
     SELECT jsonb_build_object('id', x.id, 'at', x.at, 'actor_name', x.actor_name, 'via', x.via,
              'action', x.action, 'resource_type', x.resource_type, 'resource_id', x.resource_id,
              'resource_name', x.resource_name, 'note', x.note, 'team_id', x.team_id,
              'team', {team_json('s')}) AS doc, x.at, x.id
     FROM onboarding_auditevent x JOIN shown s ON s.id = x.team_id
     ORDER BY x.at DESC, x.id DESC LIMIT {ACTIVITY_LIMIT}) a)
"""


@dataclass(frozen=True)
class FirstSteps:
    has_account: bool
    first_topic: int | None
    has_schema: bool
    has_subscription: bool


@dataclass(frozen=True)
class DashboardTeams:
    teams: list[Team]  # by name
    roles: dict[int, str]  # the viewer's role in each team they belong to
    counts: dict[int, dict[str, int]]  # live topics by status, per team
    first_steps: dict[int, FirstSteps]
    activity: list[AuditEvent]  # newest first


def dashboard_teams(user) -> DashboardTeams:
    rows, activity = json_columns(STATEMENT, {"user": user.pk, "everyone": is_operator(user)})
    return DashboardTeams(
        teams=[instance_from_json(Team, row) for row in rows],  # its other keys are no Team columns
        roles={row["id"]: row["role"] for row in rows if row["role"]},
        counts={row["id"]: row["counts"] for row in rows},
        first_steps={row["id"]: FirstSteps(row["has_account"], row["first_topic"], row["has_schema"],
                                           row["has_subscription"]) for row in rows},
        activity=[instance_from_json(AuditEvent, row) for row in activity])
