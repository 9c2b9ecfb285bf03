"""Classification follows data through a mapping: a canonical field fed by a tagged source field is tagged
with the source's classification when the mapping version is saved.

The mapper writes mapped events into the canonical topic, so whatever was sensitive in the source stays
sensitive there: peek, the gateway and the event store mask the canonical field from then on. Existing tags of
the canonical schema are kept as they are (its owners may have classified more strictly). Tags the source
inherits from topics routed into it count like its own. A ``jsonata`` rule reads the whole event, so its target
is tagged with the strictest classification of the source's tagged fields.
"""

from __future__ import annotations

from onboarding.audit import audit_record
from onboarding.models import MappingVersion, SensitiveField
from onboarding.models.classification import classification_of
from onboarding.queue import access_reconcile_soon

# strictest first: a target fed by several tagged sources takes the strictest of their classifications
_ORDER = ["secret", "phi", "pii", "confidential"]


def _strictest(classes: list[str]) -> str:
    return min(classes, key=lambda c: _ORDER.index(c) if c in _ORDER else len(_ORDER))


def fed_targets(rules: list[dict], source_tags: dict[str, str]) -> dict[str, str]:
    """target path -> classification for every rule that reads a tagged source field (or a tagged field below
    or above a record it copies)."""
    out: dict[str, str] = {}
    for rule in rules:
        sources = rule.get("sources") or []
        if rule.get("fn") == "jsonata":
            found = list(source_tags.values())
        else:
            found = [cls for path, cls in source_tags.items() for s in sources
                     if path == s or path.startswith(s + ".") or s.startswith(path + ".")]
        if found:
            out[rule["target"]] = _strictest(found)
    return out


def propagate_tags(*, actor, via: str, version: MappingVersion) -> list[str]:
    """Tag the canonical fields fed by tagged source fields; the paths newly tagged, in order."""
    mapping = version.mapping
    source_tags = {t.path: t.classification for t in classification_of(mapping.source_topic) if t.side == "value"}
    if not source_tags:
        return []
    canonical_schema = version.canonical_schema_version.schema
    existing = set(SensitiveField.objects.filter(schema=canonical_schema).values_list("path", flat=True))
    tagged = []
    for path, classification in sorted(fed_targets(version.rules, source_tags).items()):
        if path in existing:
            continue
        row = SensitiveField.objects.create(
            schema=canonical_schema, path=path, classification=classification,
            note=f"from {mapping.source_topic.name} through mapping {mapping.mapping_id} v{version.number}",
            tagged_by=actor if actor is not None and actor.is_authenticated else None)
        audit_record(actor=actor, via=via, action="sensitive_field.tag", obj=row, team=canonical_schema.topic.team,
                     after={"path": path, "classification": classification, "mapping": mapping.mapping_id})
        tagged.append(path)
    if tagged:
        access_reconcile_soon(canonical_schema.topic.cluster_id)  # the gateway masks what the access run writes
    return tagged
