"""What history rows call their objects: a topic by its name, a schema by its subject, a service account by its
user name, a team by its slug, and so on, rather than "topic 11".

Names come from snapshots, never from the live tables: the event's own snapshot names its object (a deleted
one too, from its delete snapshot), and an object a snapshot points at (a schema's topic, a membership's user)
is named from that object's latest snapshot, which outlives the row. One query per kind of object referred to.
"""

from __future__ import annotations

from collections.abc import Iterable

from onboarding.history.models import TRACKED_EVENT_MODELS
from onboarding.models.tokens import TOKEN_PREFIX

_EVENT_MODEL = {m.pgh_tracked_model._meta.concrete_model._meta.model_name: m for m in TRACKED_EVENT_MODELS}

# A snapshot column that points at another object -> that object's kind.
REFERENCES = {
    "team_id": "team", "subscriber_id": "team", "topic_id": "topic", "source_id": "topic",
    "destination_id": "topic", "schema_id": "schema", "cluster_id": "cluster", "service_account_id": "serviceaccount",
    "user_id": "user", "author_id": "user", "requested_by_id": "user", "decided_by_id": "user",
    "created_by_id": "user", "automation_user_id": "user",
}
# What naming each kind needs from other objects' snapshots.
_NEEDS = {
    "schema": ("topic_id",), "schemaversion": ("schema_id",), "sensitivefield": ("schema_id",),
    "subscription": ("subscriber_id", "source_id"), "membership": ("user_id", "team_id"),
    "topicpolicy": ("cluster_id",), "changepolicy": ("cluster_id",), "webhook": ("team_id",),
    "apitoken": ("team_id", "user_id"), "aggregation": ("team_id",),
    "connector": ("team_id",),
}


class Names:
    """Names of objects, from their latest snapshots, fetched in one query per kind."""

    def __init__(self):
        self._data: dict[tuple[str, str], dict] = {}

    def load(self, kind: str, ids: Iterable) -> None:
        wanted = {str(i) for i in ids if i is not None} - {i for k, i in self._data if k == kind}
        model = _EVENT_MODEL.get(kind)
        if not wanted or model is None:
            return
        latest = (model.objects.filter(pgh_obj_id__in=wanted).order_by("pgh_obj_id", "-pgh_id")
                  .distinct("pgh_obj_id"))
        for event in latest:
            self.remember(kind, event.pgh_obj_id, {field.attname: getattr(event, field.attname)
                                                   for field in event._meta.fields})

    def remember(self, kind: str, pk, data: dict) -> None:
        """Name object ``pk`` of ``kind`` from this snapshot."""
        self._data[(kind, str(pk))] = data

    def prepare(self, items: Iterable[tuple[str, dict]]) -> None:
        """Fetch what naming these (kind, snapshot) pairs and their changed references needs."""
        items = list(items)
        wanted: dict[str, set] = {}
        for kind, data in items:
            for column in (*_NEEDS.get(kind, ()), *(c for c in data if c in REFERENCES)):
                wanted.setdefault(REFERENCES[column], set()).add(data.get(column))
        # Schemas first: naming them needs their topics, which join the topics asked for anyway.
        self.load("schema", wanted.pop("schema", ()))
        wanted.setdefault("topic", set()).update(d.get("topic_id") for (k, _), d in self._data.items() if k == "schema")
        for kind, ids in wanted.items():
            self.load(kind, ids)

    def of(self, kind: str, pk) -> str:
        """The name of a referred-to object; ``<kind> #<id>`` when no snapshot of it exists."""
        if pk in (None, ""):
            return ""
        data = self._data.get((kind, str(pk)))
        return self.name(kind, data) if data is not None else f"{kind} #{pk}"

    def name(self, kind: str, data: dict) -> str:
        """The name of an object from its own snapshot."""
        pk = data.get("id")
        match kind:
            case "team":
                return data.get("slug") or f"team #{pk}"
            case "topic" | "cluster":
                return data.get("name") or f"{kind} #{pk}"
            case "serviceaccount" | "user":
                return data.get("username") or f"{kind} #{pk}"
            case "schema":
                return f"{self.of('topic', data.get('topic_id'))}-{data.get('side')}"
            case "schemaversion":
                return f"{self.of('schema', data.get('schema_id'))} v{data.get('number')}"
            case "sensitivefield":
                return f"{self.of('schema', data.get('schema_id'))}:{data.get('path')}"
            case "subscription":
                return f"{self.of('team', data.get('subscriber_id'))} ← {self.of('topic', data.get('source_id'))}"
            case "membership":
                return f"{self.of('user', data.get('user_id'))} in {self.of('team', data.get('team_id'))}"
            case "topicpolicy" | "changepolicy":
                label = "topic policy" if kind == "topicpolicy" else "change policy"
                return f"{label} of {self.of('cluster', data.get('cluster_id'))}"
            case "aggregation" | "connector":
                return f"{self.of('team', data.get('team_id'))}.{data.get('name', '')}"
            case "changerequest":
                return f"#{pk}: {data.get('title', '')}"
            case "webhook":
                return f"{self.of('team', data.get('team_id'))}/{data.get('name', '')}"
            case "apitoken":
                team, user = data.get("team_id"), data.get("user_id")
                owner = self.of("team", team) if team else self.of("user", user)
                return f"{data.get('name', '')} ({TOKEN_PREFIX}_{data.get('key_id', '')}) of {owner}"
        return f"{kind} #{pk}"
