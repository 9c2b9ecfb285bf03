"""The manifest's ``event_store:`` section: the team's topics kept in the event store, one entry per topic
(``cluster``, ``topic``, ``mode``, ``retention_days``, ``indexed_fields``). Managed only when present, like the
other later sections. Entries are checked by the event store services' own rules before anything is applied
(errors under the entry's path), and applied through the same services, after the topics they name.
"""

from __future__ import annotations

from onboarding.errors import ValidationError
from onboarding.gitops.plan import UPDATE, Action
from onboarding.models import EventStoreBinding
from onboarding.services.event_store import binding_errors, event_store_bind, event_store_unbind, event_store_update

NOT_OWN = "The event store keeps only the team's own topics: {topic!r} is not a topic of {team} on {cluster}."


def event_store_entry(binding: EventStoreBinding) -> dict:
    return {"cluster": binding.topic.cluster.name, "topic": binding.topic.name, "mode": binding.mode,
            "retention_days": binding.retention_days, "indexed_fields": list(binding.indexed_fields)}


def _values(spec: dict) -> dict:
    return {"mode": spec.get("mode") or EventStoreBinding.Mode.LOG, "retention_days": spec.get("retention_days"),
            "indexed_fields": spec.get("indexed_fields") or []}


def event_store_errors(errors: dict, action: Action, *, team, desired: dict, state, cluster) -> None:
    """The services' checks of an entry, keyed under its path (``event_store[0].indexed_fields``); a topic this
    manifest still has to make is checked when the apply binds it."""
    spec = action.desired
    topic = state.topics.get((cluster.name, spec["topic"]))
    if topic is None:
        made_here = {t["name"] for t in desired["topics"] if t["cluster"] == cluster.name}
        if spec["topic"] not in made_here:
            errors[f"{action.path}.topic"] = [NOT_OWN.format(topic=spec["topic"], team=team.slug,
                                                             cluster=cluster.name)]
        return
    current = state.event_store.get(action.key) if action.op == UPDATE else None
    for key, messages in binding_errors(topic=topic, current=current, **_values(spec)).items():
        errors.setdefault(action.path if key == "__all__" else f"{action.path}.{key}", []).extend(messages)


class EventStoreSteps:
    """The apply steps of the section; mixed into the Applier, which gives ``_common``, ``topics`` and ``state``."""

    def create_event_store(self, action: Action):
        topic = self.topics.get(action.key)
        if topic is None:
            raise ValidationError({"topic": [f"There is no topic {action.key[1]!r} of the team on {action.key[0]}."]})
        return event_store_bind(**self._common(), topic=topic, **_values(action.desired))

    def update_event_store(self, action: Action):
        binding = self.state.event_store[action.key]
        changes = {name: _values(action.desired)[name] for name in action.changes}
        return event_store_update(**self._common(), binding=binding, expected_generation=binding.generation,
                                  **changes)

    def delete_event_store(self, action: Action):
        return event_store_unbind(**self._common(), binding=self.state.event_store[action.key])
