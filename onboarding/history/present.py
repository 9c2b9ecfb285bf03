"""History events as rows for pages and exports: who, when, via, request id, action and what changed."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

from onboarding.history import names
from onboarding.history.models import PEEK, AuditTrail
from onboarding.history.selectors import EVENTS, RESOURCE_TYPE_OF, kinds_of_action
from onboarding.models import AuditEvent

EXPORT_COLUMNS = ("at", "resource_type", "resource_id", "object", "event", "action", "actor", "via", "request_id",
                  "task", "details", "changes")
# Row ids and bookkeeping that say nothing a reader needs in a diff.
_NOT_CHANGES = {"id", "created_at"}
CHUNK = 500
# What each event label means, as a verb for actions the services did not name.
VERBS = {"insert": "create", "update": "update", "delete": "delete", PEEK: "peek"}
KIND_LABELS = {
    "team": "team", "membership": "membership", "cluster": "cluster", "topicpolicy": "topic policy",
    "topic": "topic", "schema": "schema", "schemaversion": "schema version", "serviceaccount": "service account",
    "subscription": "subscription", "apitoken": "API token", "user": "user", "changepolicy": "change policy",
    "changerequest": "change request", "webhook": "webhook", "sensitivefield": "sensitive field",
}


def _changes(event: AuditTrail) -> dict:
    """Field -> [before, after]; an insert has no before and a delete no after; a peek changes nothing."""
    data = {k: v for k, v in (event.pgh_data or {}).items() if k not in _NOT_CHANGES}
    if event.pgh_label == "insert":
        return {field: [None, value] for field, value in data.items()}
    if event.pgh_label == "delete":
        return {field: [value, None] for field, value in data.items()}
    if event.pgh_label in VERBS and event.pgh_label != "update":
        return {}
    return {field: pair for field, pair in (event.pgh_diff or {}).items() if field not in _NOT_CHANGES}


# Which of several records of one object in one request an event is: its insert is the create.
_VERB_OF_LABEL = {"insert": ("create", "import", "submit"), "delete": ("delete", "remove")}


def _records(events: list[AuditTrail]) -> dict:
    """The services' records of these events' contexts: (context, kind, id) -> [(action, after, note), ...] in
    order, and (context, kind) -> action for rows of the same kind that have no record of their own."""
    context_ids = {e.pgh_context_id for e in events if e.pgh_context_id}
    found = {}
    for context_id, resource_type, resource_id, action, after, note in (
            AuditEvent.objects.filter(context_id__in=context_ids).order_by("id")
            .values_list("context_id", "resource_type", "resource_id", "action", "after", "note")):
        found.setdefault((context_id, resource_type, resource_id), []).append((action, after, note))
        found.setdefault((context_id, resource_type), action)
    return found


def _verb(record: tuple) -> str:
    return record[0].rsplit(".", 1)[-1]


def _record(records: dict, key: tuple, label: str):
    """The record of this event among those of its object in its request: one whose action fits what happened
    (a create for an insert; for an update or a peek, not the create), else the only one, else none."""
    candidates = records.get(key) or []
    if fitting := _VERB_OF_LABEL.get(label):
        matched = [record for record in candidates if _verb(record).startswith(fitting)]
    else:
        matched = [record for record in candidates if not _verb(record).startswith(_VERB_OF_LABEL["insert"])]
    if matched:
        return matched[0]
    return candidates[0] if len(candidates) == 1 else None


def action_for(kind: str, label: str, stamped: str, records: dict, key: tuple) -> str:
    """The service's action for this row, else the context's when it is about this kind of row, else the
    kind and what happened to it (``schemaversion.create``)."""
    if record := _record(records, key, label):
        return record[0]
    if key[:2] in records:
        return records[key[:2]]
    if stamped and kind in kinds_of_action(stamped):
        return stamped
    return f"{kind}.{VERBS.get(label, label)}"


def actor_for(context: dict) -> str:
    """Who: the user name; for a team token, with the token (``payments-automation (token pep_…)``)."""
    return (context.get("actor_name") or context.get("username")
            or ("system" if context.get("via") == "system" else ""))


def rows(events: Iterable[AuditTrail]) -> list[dict]:
    events = list(events)
    records = _records(events)
    kinds = [RESOURCE_TYPE_OF.get(event.pgh_obj_model, event.pgh_obj_model) for event in events]
    changes = [_changes(event) for event in events]
    named = names.Names()
    # Each row's own snapshot, and both sides of its changed references, named in one batch.
    named.prepare([*zip(kinds, (e.pgh_data or {} for e in events), strict=True),
                   *((kind, {field: pair[side] for field, pair in diff.items()})
                     for kind, diff in zip(kinds, changes, strict=True) for side in (0, 1))])
    result = []
    for event, kind, diff in zip(events, kinds, changes, strict=True):
        context = event.pgh_context or {}
        key = (event.pgh_context_id, kind, event.pgh_obj_id)
        record = _record(records, key, event.pgh_label)
        details = dict(record[1] or {}) if record and event.pgh_label == PEEK else {}
        if record and record[2] and event.pgh_label == PEEK:
            details["note"] = record[2]
        result.append({
            "at": event.pgh_created_at,
            "resource_type": kind,
            "resource_id": event.pgh_obj_id,
            "object": named.name(kind, event.pgh_data or {}),
            "event": event.pgh_label,
            "action": action_for(kind, event.pgh_label, context.get("action") or "", records, key),
            "actor": actor_for(context),
            "via": context.get("via") or "",
            "request_id": context.get("request_id") or "",
            "task": context.get("task") or "",
            "details": details,
            "changes": diff,
            "display": display_changes(diff, named),
            "kind_label": KIND_LABELS.get(kind, kind),
            "event_label": EVENTS.get(event.pgh_label, event.pgh_label),
            "details_display": [(name, plain(value)) for name, value in details.items()],
        })
    return result


def plain(value) -> str:
    """A value as a reader wants it: strings as they are, lists joined, mappings as ``key: value``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {plain(item)}" for key, item in value.items())
    return str(value)


def display_changes(diff: dict, named: names.Names) -> list[dict]:
    """Field, before and after as plain text, references by name (``team: payments``, not ``team_id: 3``)."""
    shown = []
    for field, (before, after) in sorted(diff.items()):
        if plain(before) == plain(after) == "":
            continue  # a field a new row leaves empty says nothing
        if field in names.REFERENCES:
            kind = names.REFERENCES[field]
            shown.append({"field": field.removesuffix("_id"), "before": named.of(kind, before),
                          "after": named.of(kind, after)})
        else:
            shown.append({"field": field, "before": plain(before), "after": plain(after)})
    return shown


def _chunks(events) -> Iterator[list[dict]]:
    batch = []
    for event in events.iterator(chunk_size=CHUNK):
        batch.append(event)
        if len(batch) == CHUNK:
            yield rows(batch)
            batch = []
    if batch:
        yield rows(batch)


class _Echo:
    def write(self, value):
        return value


# OWASP CSV injection: a spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a single quote before it."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


# The page's rendering of a row; the API and exports give the values themselves.
DISPLAY_ONLY = {"display", "kind_label", "event_label", "details_display"}


def public(row: dict) -> dict:
    """A row as the API and exports give it: without the page's display-only rendering."""
    return {key: value for key, value in row.items() if key not in DISPLAY_ONLY}


def _cells(row: dict) -> list[str]:
    values = {**row, "at": row["at"].isoformat(),
              "details": json.dumps(row["details"], cls=DjangoJSONEncoder, sort_keys=True) if row["details"] else "",
              "changes": json.dumps(row["changes"], cls=DjangoJSONEncoder, sort_keys=True)}
    return [neutral(str(values[column])) for column in EXPORT_COLUMNS]


def csv_lines(events) -> Iterator[str]:
    """The events as CSV, a chunk of rows at a time: the export never holds the whole set in memory.
    Every cell is neutralised against formula injection (user names, names and texts come from users)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for batch in _chunks(events):
        for row in batch:
            yield writer.writerow(_cells(row))


def json_lines(events) -> Iterator[str]:
    """The events as one JSON array, streamed element by element."""
    yield "["
    first = True
    for batch in _chunks(events):
        for row in batch:
            yield ("\n" if first else ",\n") + json.dumps(public(row), cls=DjangoJSONEncoder, sort_keys=True)
            first = False
    yield "\n]\n"
