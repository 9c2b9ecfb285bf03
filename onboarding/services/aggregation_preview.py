"""Preview an aggregation before saving it: the engine computes the windows (``POST {AGGREGATOR_URL}/preview``,
docs/aggregations.md) over the source's recent events or events the caller pastes; the portal never computes
windows itself.

The definition is checked by the aggregation services' own rules first (the same field-level errors as saving),
except the output topic, which a preview does not write. Recent events are read as peek reads them: the last
records of every partition, decoded through the registry, sensitive fields masked (a preview never shows what
peek would hide; a masked field aggregates as its mark), and the read is audited as a peek. Pasted events are a
JSON list of ``{"key", "value", "headers", "timestamp_ms"}`` objects, or of bare values.

An engine that cannot be reached, answers late or fails is a message on the result, never an error page; a
definition the engine refuses (400) comes back as field-level errors.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import requests
from django.conf import settings

from onboarding.audit import audit_record
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import Aggregation, AuditEvent, Team
from onboarding.models.classification import classification_of, masked_paths
from onboarding.permissions import can_write_team
from onboarding.platform import PlatformError
from onboarding.platform.connection import kafka_connection_for, registry_connection_for
from onboarding.platform.kafka_peek import RawRecord, read_latest
from onboarding.platform.registry import Registry
from onboarding.reconcile.aggregations_plan import Spec, definition_body
from onboarding.routing.decode import MAGIC_BYTE, DecodeError, SchemaCache, decode_value
from onboarding.schemas.masking import mask
from onboarding.services.aggregation_validation import validate

log = logging.getLogger(__name__)
MAX_EVENTS = 10_000  # the engine's limit
DEFAULT_RECENT = 200
MAX_RECENT = 1_000
PREVIEW_OUTPUT = "preview"
# Where the engine's field paths belong in the portal's form (the first part of the path decides).
_FIELD_OF_PATH = {"filter": "filter", "group_by": "group_by", "measures": "measures", "time": "time_field",
                  "emit": "emit", "late": "late", "source_topic": "source", "events": "events"}
_WINDOW_FIELDS = {"size_ms": "size", "advance_ms": "advance", "gap_ms": "gap", "grace_ms": "grace",
                  "type": "window_type"}


@dataclass
class PreviewResult:
    results: list[dict] = field(default_factory=list)
    late: list[dict] = field(default_factory=list)
    events: int = 0
    origin: str = "recent"  # recent | pasted
    measures: list[str] = field(default_factory=list)
    unavailable: str = ""  # why the engine gave no answer, in words for the page

    def as_dict(self) -> dict:
        return {"results": self.results, "late": self.late, "events": self.events, "origin": self.origin,
                "unavailable": self.unavailable or None}


def aggregation_preview(*, actor, team: Team, values: dict, events=None, recent=None,
                        current: Aggregation | None = None, via: str = AuditEvent.Via.SYSTEM) -> PreviewResult:
    """``values`` are the service inputs of ``aggregation_create`` (``source`` a Topic, durations as typed);
    ``events`` pasted events (a list or its JSON text), else the source's ``recent`` last events."""
    if not can_write_team(actor, team):
        raise PermissionDenied("Only owners and members of the team can preview its aggregations.")
    values = {**values, "output_topic": values.get("output_topic") or (current.output_topic if current else "")}
    errors, fields = validate(team=team, values=values, current=current)
    errors.pop("output_topic", None)  # a preview writes no output
    errors.pop("description", None)
    pasted = None
    if events not in (None, "", []):
        pasted, problems = parse_events(events)
        if problems:
            errors["events"] = problems
    limit = recent_limit(recent, errors) if pasted is None else 0
    if errors:
        raise ValidationError(errors)
    source = fields["source"]
    spec = Spec(id=f"{team.slug}.{PREVIEW_OUTPUT}", source_topic=source.name,
                output_topic=fields["output_topic"] or f"{team.slug}.{PREVIEW_OUTPUT}", filter=fields["filter"],
                group_by=fields["group_by"], window_type=fields["window_type"], size_ms=fields["size_ms"],
                advance_ms=fields["advance_ms"], gap_ms=fields["gap_ms"], grace_ms=fields["grace_ms"] or 0,
                time_source=fields["time_source"], time_field=fields["time_field"],
                measures=tuple(fields["measures"]), emit=fields["emit"], late=fields["late"],
                start_from=fields["start_from"])
    result = PreviewResult(origin="pasted" if pasted is not None else "recent",
                           measures=[m["name"] for m in fields["measures"]])
    if pasted is None:
        try:
            pasted = recent_events(actor, source, limit, via=via)
        except PlatformError as exc:
            result.unavailable = f"The source's recent events could not be read: {exc}"
            return result
    result.events = len(pasted)
    return _ask_engine(spec, pasted, result)


def recent_limit(raw, errors: dict) -> int:
    if raw in (None, ""):
        return DEFAULT_RECENT
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_RECENT:
        errors["recent"] = [f"Ask for 1 to {MAX_RECENT} recent events."]
    return limit


def parse_events(raw) -> tuple[list[dict], list[str]]:
    """Pasted events as the engine takes them, and every problem (by event number). A bare value (anything but
    an object with a ``value``) is an event with that value, no key and the time of the preview."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            return [], [f"Paste a JSON list of events: {exc}."]
    if not isinstance(raw, list):
        return [], ['Paste a JSON list of events, e.g. [{"value": {...}, "timestamp_ms": 1765000000000}].']
    if len(raw) > MAX_EVENTS:
        return [], [f"At most {MAX_EVENTS} events."]
    now = int(time.time() * 1000)
    events, problems = [], []
    for number, item in enumerate(raw, start=1):
        if not (isinstance(item, dict) and "value" in item):
            events.append({"key": None, "value": item, "headers": {}, "timestamp_ms": now})
            continue
        unknown = sorted(set(item) - {"key", "value", "headers", "timestamp_ms"})
        if unknown:
            problems.append(f"Event {number}: unknown keys {', '.join(unknown)}.")
        stamp = item.get("timestamp_ms", now)
        if isinstance(stamp, bool) or not isinstance(stamp, int) or stamp < 0:
            problems.append(f"Event {number}: timestamp_ms must be epoch milliseconds (a whole number).")
        headers = item.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str | None) for v in headers.values()):
            problems.append(f"Event {number}: headers must be an object of strings.")
        events.append({"key": item.get("key"), "value": item["value"], "headers": headers, "timestamp_ms": stamp})
    return events, problems


def recent_events(actor, source, limit: int, *, via: str) -> list[dict]:
    """The source's last ``limit`` events, decoded and masked as peek shows them; the read is audited."""
    masked = masked_paths(classification_of(source))
    try:
        records = read_latest(kafka_connection_for(source.cluster), source.name, limit)
        schemas = SchemaCache(Registry.shared(registry_connection_for(source.cluster)))
        events = [_event(record, schemas, masked) for record in records]
    except PlatformError as exc:
        _audit(actor, source, via, limit, 0, f"aggregation preview failed: {exc}")
        raise
    _audit(actor, source, via, limit, len(events), "aggregation preview")
    return [event for event in events if event is not None]


def _audit(actor, source, via: str, limit: int, count: int, note: str) -> None:
    # Reading a topic's events is what peek audits; a preview is one more way to look at them.
    audit_record(actor=actor, via=via, action="topic.peek", obj=source, team=source.team,
                 after={"limit": limit, "events": count}, note=note)


def _event(record: RawRecord, schemas: SchemaCache, masked: dict) -> dict | None:
    try:
        value = mask(decode_value(record.value, schemas), masked.get("value", {}))
    except DecodeError:
        return None  # the engine would late-handle it; a preview leaves out what it cannot read
    key = None
    if record.key is not None:
        try:
            key = mask(decode_value(record.key, schemas), masked.get("key", {}))
        except DecodeError:
            if masked.get("key") or record.key[:1] == bytes([MAGIC_BYTE]):
                key = None
            else:
                key = record.key.decode("utf-8", errors="replace")
    headers = {name: raw.decode("utf-8", errors="replace") if raw is not None else None
               for name, raw in record.headers}
    return {"key": key, "value": value, "headers": headers, "timestamp_ms": record.timestamp_ms or 0}


def _ask_engine(spec: Spec, events: list[dict], result: PreviewResult) -> PreviewResult:
    url = f"{settings.AGGREGATOR_URL.rstrip('/')}/preview"
    try:
        response = requests.post(url, json={"definition": definition_body(spec), "events": events},
                                 timeout=settings.AGGREGATOR_PREVIEW_TIMEOUT_SECONDS)
    except requests.Timeout:
        result.unavailable = (f"The aggregation engine did not answer within "
                              f"{settings.AGGREGATOR_PREVIEW_TIMEOUT_SECONDS} seconds; try fewer events.")
        return result
    except requests.RequestException as exc:
        log.warning("aggregation preview: engine at %s unreachable: %s", url, exc)
        result.unavailable = ("The aggregation engine cannot be reached, so no preview can be computed now. "
                              "Saving the definition does not need it.")
        return result
    body = _json(response)
    if response.status_code == 400 and isinstance(body, dict) and isinstance(body.get("errors"), dict):
        raise ValidationError(engine_errors(body["errors"]))
    if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("results"), list):
        log.warning("aggregation preview: engine answered %s: %.200s", response.status_code, response.text)
        result.unavailable = f"The aggregation engine could not compute a preview (it answered {response.status_code})."
        return result
    result.results = [row for row in body["results"] if isinstance(row, dict)]
    result.late = [row for row in body.get("late") or [] if isinstance(row, dict)]
    return result


def engine_errors(errors: dict) -> dict[str, list[str]]:
    """The engine's ``{"definition.window.size_ms": [...]}`` under the form's fields, each message with its path."""
    out: dict[str, list[str]] = {}
    for path, messages in errors.items():
        parts = str(path).replace("[", ".").split(".")
        parts = parts[1:] if parts and parts[0] == "definition" else parts
        name = _WINDOW_FIELDS.get(parts[1], "window_type") if parts[:1] == ["window"] and len(parts) > 1 \
            else _FIELD_OF_PATH.get(parts[0] if parts else "", "__all__")
        for message in messages if isinstance(messages, list) else [messages]:
            out.setdefault(name, []).append(f"{message} ({path})" if name == "__all__" else str(message))
    return out


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None
