"""The engine's view of an aggregation, computed from the portal's definition. Pure: no I/O, no rows.

* ``definition_body`` / ``table_row``: the definitions-table value of docs/aggregations.md (the preview call
  sends the body without version, application id and schema id; the table gets all of it);
* ``diff``: the rows to write and the keys to tombstone against the table as read back;
* ``output_schema``: the output value's JSON Schema (group, window bounds, one property per measure);
* ``output_tags``: which output fields carry a sensitive-field tag of the source field they are computed from
  (the group from ``group_by``'s field or the record key, min/max/first/last/sum/avg from their field; counts
  carry no value of the source and so no tag).

An expression's fields are found by reading its text: every ``value.…`` / ``key.…`` chain it names counts, so a
function over a tagged field (``upper(value.ssn)``) still inherits the tag. A filter passes no value through,
so it gives no tag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

FORMAT = 1
KEY_SIDE, VALUE_SIDE = "key", "value"
# Measures whose result can be a value of their field, so a tagged field's tag applies to it: min, max, first and
# last always are one; sum and avg are the event's own value whenever a window holds one event (and two
# overlapping windows' sums differ by one event's value), so they keep the tag too. count and count_distinct
# hold no value of the field.
VALUE_CARRYING_OPS = frozenset({"sum", "min", "max", "avg", "first", "last"})
# Of several tags reaching one output field, the most restrictive wins.
CLASSIFICATION_ORDER = ("secret", "phi", "pii", "confidential")

# JMESPath literals and raw strings hold no field names: removed before the chains are read.
_LITERALS = re.compile(r"`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'")
_CHAIN = re.compile(r"(?<![A-Za-z0-9_.\"@])(value|key)((?:\s*\.\s*(?:[A-Za-z_][A-Za-z0-9_]*|\"[^\"]*\")"
                    r"|\s*\[\s*\*?\s*\])*)")
_LINK = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*|\"[^\"]*\")|\[\s*\*?\s*\]")


@dataclass(frozen=True)
class Spec:
    """What the engine needs of a definition, in the contract's words (durations in milliseconds)."""

    id: str
    source_topic: str
    output_topic: str
    filter: str = ""
    group_by: str = ""
    window_type: str = "tumbling"
    size_ms: int | None = None
    advance_ms: int | None = None
    gap_ms: int | None = None
    grace_ms: int = 0
    time_source: str = "record"
    time_field: str = ""
    measures: tuple = field(default_factory=tuple)
    emit: str = "on_update"
    late: str = "drop"
    start_from: str = "earliest"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.output_topic}.late"

    @classmethod
    def of(cls, agg) -> Spec:
        """From an Aggregation (or anything with its attributes, e.g. a form's unsaved instance)."""
        return cls(id=agg.definition_id, source_topic=agg.source.name, output_topic=agg.output_topic,
                   filter=agg.filter or "", group_by=agg.group_by or "", window_type=agg.window_type,
                   size_ms=agg.size_ms, advance_ms=agg.advance_ms, gap_ms=agg.gap_ms, grace_ms=agg.grace_ms or 0,
                   time_source=agg.time_source, time_field=agg.time_field or "",
                   measures=tuple(dict(m) for m in agg.measures or ()), emit=agg.emit, late=agg.late,
                   start_from=agg.start_from)


def application_id(spec_id: str, version: int, prefix: str) -> str:
    return f"{prefix}{spec_id}.v{version}"


def definition_body(spec: Spec) -> dict:
    """The definition as the preview call takes it: the table row without version, application id and schema."""
    time: dict = {"source": spec.time_source}
    if spec.time_source == "field":
        time["field"] = spec.time_field
    return {
        "format": FORMAT,
        "id": spec.id,
        "source_topic": spec.source_topic,
        "output_topic": spec.output_topic,
        "dead_letter_topic": spec.dead_letter_topic,
        "filter": spec.filter.strip() or None,
        "group_by": spec.group_by.strip() or None,
        "window": {"type": spec.window_type, "size_ms": spec.size_ms, "advance_ms": spec.advance_ms,
                   "gap_ms": spec.gap_ms, "grace_ms": spec.grace_ms},
        "time": time,
        "measures": [_measure(m) for m in spec.measures],
        "emit": spec.emit,
        "late": spec.late,
        "start_from": spec.start_from,
    }


def table_row(spec: Spec, *, version: int, output_schema_id: int, prefix: str) -> dict:
    """The definitions-table value, keys in the contract's order."""
    body = definition_body(spec)
    row = {"format": body.pop("format"), "id": body.pop("id"), "version": version,
           "application_id": application_id(spec.id, version, prefix)}
    row.update(body)
    row["output_schema_id"] = output_schema_id
    return row


def encode(row: Mapping) -> bytes:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def diff(wanted: Mapping[str, bytes], observed: Mapping[str, bytes], *,
         keep: Iterable[str] = ()) -> tuple[dict[str, bytes], list[str]]:
    """(rows to write, keys to tombstone). A row is written when its JSON differs from the table's (bytes that
    decode to the same value are left alone); an observed key neither wanted nor in ``keep`` (definitions
    whose new row is not ready yet: they keep the row the engine runs) gets a tombstone."""
    upserts = {key: value for key, value in wanted.items() if _decoded(observed.get(key)) != _decoded(value)}
    kept = set(keep) | set(wanted)
    return upserts, sorted(key for key in observed if key not in kept)


def _decoded(value: bytes | None):
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value  # unreadable: differs from every JSON row, so it is rewritten


def _measure(measure: Mapping) -> dict:
    out = {"name": measure["name"], "op": measure["op"]}
    if measure.get("field"):
        out["field"] = measure["field"]
    return out


# ------------------------------------------------------------------------------------------- output schema

def output_schema(spec: Spec, *, tags: Mapping[str, str] | None = None) -> dict:
    """The JSON Schema of the output value. ``tags`` (output field -> classification) are written as
    ``confluent:tags`` annotations, so a reader of the registered schema sees which results are sensitive."""
    tags = tags or {}
    properties: dict[str, dict] = {
        "group": {"type": "string", "description": "The group key: group_by's result, or the record key."},
        "window_start": {"type": "string", "format": "date-time", "description": "Inclusive start of the window."},
        "window_end": {"type": "string", "format": "date-time", "description": "Exclusive end of the window."},
    }
    for measure in spec.measures:
        properties[measure["name"]] = _measure_property(measure)
    for name, classification in tags.items():
        if name in properties:
            properties[name]["confluent:tags"] = [classification.upper()]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"{spec.id} results",
        "description": f"Windowed aggregation of {spec.source_topic} ({spec.window_type} windows).",
        "type": "object",
        "properties": properties,
        # The engine writes every measure, but only the window's own fields are required: a new version that
        # adds a measure is then a compatible evolution of the subject (BACKWARD, the registry's default), as
        # it is for readers of the topic. Removing a measure or changing its type stays incompatible.
        "required": ["group", "window_start", "window_end"],
        "additionalProperties": False,
    }


def _measure_property(measure: Mapping) -> dict:
    op, source = measure["op"], measure.get("field")
    described = f"{op}({source})" if source else op
    if op in ("count", "count_distinct"):
        return {"type": "integer", "minimum": 0, "description": described}
    if op in ("sum", "min", "max", "avg"):
        # No numeric event in the window leaves nothing to add up or compare.
        return {"type": ["number", "null"], "description": described}
    # first/last keep the field's JSON type, whatever the source holds there.
    return {"description": described}


def schema_text(schema: Mapping) -> str:
    """Canonical text: the same definition always registers the same text (one registry version)."""
    return json.dumps(schema, separators=(",", ":"), sort_keys=True)


# -------------------------------------------------------------------------------------------- tags

def expression_fields(expression: str | None) -> set[tuple[str, str]]:
    """(side, path) of every field chain an expression reads, in the portal's path spelling (``a.b``,
    ``items[].sku``); ``key`` alone is (key, "") - the whole key. An empty expression reads nothing."""
    text = _LITERALS.sub(" ", expression or "")
    found = set()
    for match in _CHAIN.finditer(text):
        parts: list[str] = []
        for link in _LINK.finditer(match.group(2)):
            name = link.group(1)
            if name is None:
                parts.append("[]")
            else:
                parts.append(name.strip('"'))
        path = ""
        for part in parts:
            path = f"{path}{part}" if part == "[]" else (f"{path}.{part}" if path else part)
        found.add((match.group(1), path))
    return found


def _related(tagged: str, read: str) -> bool:
    """A tag on ``tagged`` reaches a result computed from ``read``: the same field, a field inside the tagged
    one, or a tagged field inside what is read (a whole record passes its tagged parts on)."""
    def inside(inner: str, outer: str) -> bool:
        return outer == "" or inner == outer or inner.startswith(f"{outer}.") or inner.startswith(f"{outer}[")
    return inside(read, tagged) or inside(tagged, read)


def _strongest(classifications: Iterable[str]) -> str | None:
    found = set(classifications)
    for name in CLASSIFICATION_ORDER:
        if name in found:
            return name
    return min(found) if found else None


def output_tag_origins(spec: Spec, source_tags: Mapping[str, Mapping[str, str]]
                       ) -> dict[str, tuple[str, list[str]]]:
    """Output field -> (classification, the tagged source fields it comes from, as ``side:path``).
    ``source_tags`` is side -> {path: classification} of the source (its own and inherited tags,
    ``models.classification.masked_paths``)."""
    def origin_of(fields: set[tuple[str, str]]) -> tuple[str, list[str]] | None:
        found = sorted({(side, tagged, classification) for side, read in fields
                        for tagged, classification in (source_tags.get(side) or {}).items()
                        if _related(tagged, read)})
        strongest = _strongest(classification for _, _, classification in found)
        if strongest is None:
            return None
        return strongest, [f"{side}.{tagged}" if tagged else side for side, tagged, _ in found]

    out: dict[str, tuple[str, list[str]]] = {}
    group_fields = expression_fields(spec.group_by) if spec.group_by.strip() else {(KEY_SIDE, "")}
    if origin := origin_of(group_fields):
        out["group"] = origin
    for measure in spec.measures:
        if measure["op"] in VALUE_CARRYING_OPS and (origin := origin_of(expression_fields(measure.get("field")))):
            out[measure["name"]] = origin
    return out


def output_tags(spec: Spec, source_tags: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Output field -> classification (see ``output_tag_origins``)."""
    return {name: classification for name, (classification, _) in output_tag_origins(spec, source_tags).items()}


def output_masks(tags: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The output topic's tags per side, as ``masked_paths`` spells them: the key is the group."""
    return {KEY_SIDE: {"": tags["group"]} if "group" in tags else {}, VALUE_SIDE: dict(tags)}
