"""Reading row history: which events a person may see, filtered by team, resource, actor and dates.

Events of every tracked table are read as one stream (pghistory's aggregate ``Events`` query, see
models.AuditTrail). A team's history is the team row plus every row that belonged to it when the
event was written: memberships, topics and service accounts by ``team_id``, subscriptions by the
subscribing team or the source topic, schemas by topic, schema versions and sensitive-field tags by schema;
change requests and webhooks by their team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from onboarding.errors import NotFound
from onboarding.history.models import PEEK, TRACKED_EVENT_MODELS, AuditTrail
from onboarding.models import AuditEvent, Schema, Team, Topic
from onboarding.permissions import can_read_team, is_operator

# resource_type (the model name, as in AuditEvent.resource_type) -> the label events name their object by
# (the tracking proxy's, e.g. history.TrackedTopic), and back.
RESOURCE_TYPES = {m.pgh_tracked_model._meta.concrete_model._meta.model_name: m.pgh_tracked_model._meta.label
                  for m in TRACKED_EVENT_MODELS}
RESOURCE_TYPE_OF = {label: name for name, label in RESOURCE_TYPES.items()}
_LABEL = RESOURCE_TYPES
# Rows that name their team directly.
# (A team token's events belong to its team; a personal token's to no team.)
_TEAM_COLUMN = {"membership": "team_id", "topic": "team_id", "serviceaccount": "team_id", "changerequest": "team_id",
                "webhook": "team_id", "apitoken": "team_id", "aggregation": "team_id",
                "connector": "team_id"}
# What happened to a row: the event labels, as readers name them.
EVENTS = {"insert": "created", "update": "changed", "delete": "deleted", PEEK: "peeked at"}
# The kinds of row an action a service names is about, where the action's first part is not the kind: a
# promotion stamps ``topic.create`` on its request, but the schema rows it writes there are not topics.
_ACTION_KINDS = {"schema": {"schema", "schemaversion", "sensitivefield"}, "token": {"apitoken"},
                 "change_request": {"changerequest"}}


def kinds_of_action(action: str) -> set[str]:
    prefix = action.split(".")[0]
    return _ACTION_KINDS.get(prefix, {prefix})


@dataclass(frozen=True)
class TrailFilter:
    """What a reader asked for; every part is optional."""

    team: Team | None = None
    resource_type: str = ""
    resource_id: str = ""
    actor: str = ""
    event: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def all_events() -> QuerySet[AuditTrail]:
    return AuditTrail.objects.across(*TRACKED_EVENT_MODELS).order_by("-pgh_created_at", "-pgh_id")


def team_scope(team_ids: list[int]) -> Q:
    """Events of rows that belong to any of ``team_ids``."""
    topic_ids = list(Topic.objects.filter(team_id__in=team_ids).values_list("id", flat=True))
    schema_ids = list(Schema.objects.filter(topic_id__in=topic_ids).values_list("id", flat=True))
    scope = Q(pgh_obj_model=_LABEL["team"], pgh_obj_id__in=[str(i) for i in team_ids])
    for name, column in _TEAM_COLUMN.items():
        scope |= Q(pgh_obj_model=_LABEL[name], **{f"pgh_data__{column}__in": team_ids})
    scope |= Q(pgh_obj_model=_LABEL["subscription"]) & (
        Q(pgh_data__subscriber_id__in=team_ids) | Q(pgh_data__source_id__in=topic_ids))
    scope |= Q(pgh_obj_model=_LABEL["schema"], pgh_data__topic_id__in=topic_ids)
    scope |= Q(pgh_obj_model=_LABEL["schemaversion"], pgh_data__schema_id__in=schema_ids)
    scope |= Q(pgh_obj_model=_LABEL["sensitivefield"], pgh_data__schema_id__in=schema_ids)
    return scope


def visible_to(user, events: QuerySet[AuditTrail]) -> QuerySet[AuditTrail]:
    """Operators see everything; anyone else the history of the teams they belong to."""
    if is_operator(user):
        return events
    team_ids = list(user.memberships.values_list("team_id", flat=True)) if user.is_authenticated else []
    return events.filter(team_scope(team_ids)) if team_ids else events.none()


def apply_filter(events: QuerySet[AuditTrail], wanted: TrailFilter) -> QuerySet[AuditTrail]:
    if wanted.team is not None:
        events = events.filter(team_scope([wanted.team.pk]))
    if wanted.resource_type:
        events = events.filter(pgh_obj_model=RESOURCE_TYPES[wanted.resource_type])
        if wanted.resource_id:
            events = events.filter(pgh_obj_id=wanted.resource_id)
    if wanted.actor:
        events = events.filter(username=wanted.actor)
    if wanted.event:
        events = events.filter(pgh_label=wanted.event)
    if wanted.action:
        events = events.filter(action_scope(wanted.action))
    if wanted.since:
        events = events.filter(pgh_created_at__gte=wanted.since)
    if wanted.until:
        events = events.filter(pgh_created_at__lt=wanted.until)
    return events


def action_scope(action: str) -> Q:
    """Rows a service recorded with ``action``, or written under it and of the kind it is about."""
    recorded = AuditEvent.objects.filter(action=action, context_id=OuterRef("pgh_context_id"),
                                         resource_id=OuterRef("pgh_obj_id"))
    labels = [RESOURCE_TYPES[kind] for kind in kinds_of_action(action) if kind in RESOURCE_TYPES]
    return Q(Exists(recorded)) | Q(action=action, pgh_obj_model__in=labels)


def trail_for(user, wanted: TrailFilter) -> QuerySet[AuditTrail]:
    """The events ``user`` may read that match ``wanted``; a team or resource they may not see is a NotFound."""
    if wanted.team is not None and not can_read_team(user, wanted.team):
        raise NotFound("No such team.")
    if wanted.resource_type and wanted.resource_type not in RESOURCE_TYPES:
        raise NotFound("No such kind of resource.")
    if wanted.resource_id and not is_operator(user):
        owners = owning_teams(wanted.resource_type, wanted.resource_id)
        if not any(can_read_team(user, team) for team in owners):
            raise NotFound("No such resource.")
    return apply_filter(visible_to(user, all_events()), wanted)


def owning_teams(resource_type: str, resource_id: str) -> list[Team]:
    """The teams whose members may read a resource's history (from its latest event, so removed rows
    still resolve); none for platform-wide resources (clusters, policies, tokens): operators only."""
    latest = (AuditTrail.objects.across(*TRACKED_EVENT_MODELS)
              .filter(pgh_obj_model=RESOURCE_TYPES[resource_type], pgh_obj_id=str(resource_id))
              .order_by("-pgh_created_at", "-pgh_id").first())
    if latest is None:
        return []
    data = latest.pgh_data
    team_ids, topic_ids = [], []
    if resource_type == "team":
        team_ids = [data.get("id")]
    elif resource_type in _TEAM_COLUMN:
        team_ids = [data.get(_TEAM_COLUMN[resource_type])]
    elif resource_type == "subscription":
        team_ids, topic_ids = [data.get("subscriber_id")], [data.get("source_id")]
    elif resource_type == "schema":
        topic_ids = [data.get("topic_id")]
    elif resource_type == "schemaversion":
        topic_ids = list(Schema.objects.filter(pk=data.get("schema_id")).values_list("topic_id", flat=True))
    team_ids += list(Topic.objects.filter(pk__in=topic_ids).values_list("team_id", flat=True))
    return list(Team.objects.filter(pk__in=team_ids))
