"""The manifest's ``code_tables:`` and ``mappings:`` sections: their entries as exported, the checks a plan gets
before anything is applied (the mapping services' own save checks, errors under the entry's path), and the
apply steps, which call the ordinary services.

Both sections are managed only when present. A code table is the team's, on no cluster; a mapping names its
cluster, source topic and canonical topic and carries its rules in the API's rule format.
"""

from __future__ import annotations

from onboarding.errors import ValidationError
from onboarding.gitops.manifest import code_table_key
from onboarding.gitops.plan import UPDATE, Action
from onboarding.models import CodeTable, Mapping
from onboarding.selectors.mappings import topic_named
from onboarding.services.code_tables import code_table_create, code_table_delete, code_table_update
from onboarding.services.mappings import mapping_create, mapping_delete, mapping_update
from onboarding.services.mappings_check import mapping_check

FIXED = "A mapping's source and canonical topic cannot be changed; declare a new mapping (and delete this one)."


def code_table_entry(table: CodeTable) -> dict:
    latest = table.latest
    return {"name": table.name, "description": table.description, "entries": dict(latest.entries),
            "default": latest.default if latest.has_default else None}


def mapping_entry(mapping: Mapping) -> dict:
    version = mapping.current_version
    return {"cluster": mapping.cluster.name, "name": mapping.name, "description": mapping.description,
            "source_topic": mapping.source_topic.name, "canonical_topic": mapping.canonical_topic.name,
            "rules": list(version.rules) if version else []}


# ----------------------------------------------------------------------------------------------- checks

def mapping_errors(errors: dict, action: Action, *, actor, team, desired: dict, state, cluster) -> None:
    """The save checks of a mapping entry, keyed under its path (``mappings[0].rules[2].sources[0]``), unless
    it reads a topic or code table this manifest still has to make (then the apply checks it, after those)."""
    spec = action.desired
    if action.op == UPDATE and {"source_topic", "canonical_topic"} & set(action.changes):
        errors.setdefault(action.path, []).append(FIXED)
        return
    made_here = {t["name"] for t in desired["topics"] if t["cluster"] == cluster.name}
    tables_here = {t["name"] for t in desired.get("code_tables") or []
                   if code_table_key(t) not in state.code_tables
                   or t.get("entries") != state.code_tables[code_table_key(t)].latest.entries}
    named = {r.get("args", {}).get("table") for r in spec["rules"] if isinstance(r, dict)
             and r.get("fn") == "code" and isinstance(r.get("args"), dict)}
    source = topic_named(actor, cluster, spec["source_topic"])
    canonical = topic_named(actor, cluster, spec["canonical_topic"], canonical=True)
    if source is None or canonical is None or named & tables_here:
        if source is None and spec["source_topic"] not in made_here:
            errors[f"{action.path}.source_topic"] = [f"There is no topic {spec['source_topic']!r} on "
                                                     f"{cluster.name} that you can see."]
        if canonical is None:
            errors[f"{action.path}.canonical_topic"] = [f"There is no canonical topic {spec['canonical_topic']!r} "
                                                        f"on {cluster.name}."]
        return
    check = mapping_check(team=team, source_topic=source, canonical_topic=canonical, rules=spec["rules"])
    for key, messages in check.errors.items():
        errors.setdefault(f"{action.path}.{key}", []).extend(messages)


# ----------------------------------------------------------------------------------------------- apply

class MappingSteps:
    """The apply steps of the two sections; mixed into the Applier, which gives ``_common``, ``team``,
    ``clusters`` and ``state``."""

    def create_code_table(self, action: Action):
        spec = action.desired
        return code_table_create(**self._common(), team=self.team, name=spec["name"], entries=spec["entries"],
                                 has_default=spec["default"] is not None, default=spec["default"],
                                 description=spec["description"] or "", note="manifest")

    def update_code_table(self, action: Action):
        spec = action.desired
        return code_table_update(**self._common(), table=self.state.code_tables[action.key],
                                 entries=spec["entries"], has_default=spec["default"] is not None,
                                 default=spec["default"], description=spec["description"], note="manifest")

    def delete_code_table(self, action: Action):
        return code_table_delete(**self._common(), table=self.state.code_tables[action.key])

    def create_mapping(self, action: Action):
        spec = action.desired
        cluster = self.clusters[spec["cluster"]]
        source = topic_named(self.actor, cluster, spec["source_topic"])
        canonical = topic_named(self.actor, cluster, spec["canonical_topic"], canonical=True)
        missing = {f"{action.path}.{field}": [f"There is no such topic on {cluster.name}."]
                   for field, topic in (("source_topic", source), ("canonical_topic", canonical)) if topic is None}
        if missing:
            raise ValidationError(missing)
        return mapping_create(**self._common(), team=self.team, name=spec["name"], source_topic=source,
                              canonical_topic=canonical, rules=spec["rules"], description=spec["description"] or "",
                              note="manifest")

    def update_mapping(self, action: Action):
        mapping = self.state.mappings[action.key]
        return mapping_update(**self._common(), mapping=mapping, expected_generation=mapping.generation,
                              rules=action.desired["rules"] if "rules" in action.changes else None,
                              description=action.desired["description"], note="manifest")

    def delete_mapping(self, action: Action):
        return mapping_delete(**self._common(), mapping=self.state.mappings[action.key])

