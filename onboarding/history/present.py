"""History events as rows for pages and exports: who, when, via, request id, action and what changed."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

from onboarding.history.models import AuditTrail
from onboarding.history.selectors import RESOURCE_TYPE_OF
from onboarding.models import AuditEvent

EXPORT_COLUMNS = ("at", "resource_type", "resource_id", "event", "action", "actor", "via", "request_id", "task",
                  "changes")
# Row ids and bookkeeping that say nothing a reader needs in a diff.
_NOT_CHANGES = {"id", "created_at"}
CHUNK = 500


def _changes(event: AuditTrail) -> dict:
    """Field -> [before, after]; an insert has no before and a delete no after."""
    data = {k: v for k, v in (event.pgh_data or {}).items() if k not in _NOT_CHANGES}
    if event.pgh_label == "insert":
        return {field: [None, value] for field, value in data.items()}
    if event.pgh_label == "delete":
        return {field: [value, None] for field, value in data.items()}
    return {field: pair for field, pair in (event.pgh_diff or {}).items() if field not in _NOT_CHANGES}


def _actions(events: list[AuditTrail]) -> dict:
    """The services' action names for these events: a record of the same context and resource wins, then
    the action stamped into the context."""
    context_ids = {e.pgh_context_id for e in events if e.pgh_context_id}
    found = {}
    for context_id, resource_type, resource_id, action in (
            AuditEvent.objects.filter(context_id__in=context_ids).order_by("id")
            .values_list("context_id", "resource_type", "resource_id", "action")):
        found.setdefault((context_id, resource_type, resource_id), action)
    return found


def rows(events: Iterable[AuditTrail]) -> list[dict]:
    events = list(events)
    actions = _actions(events)
    result = []
    for event in events:
        context = event.pgh_context or {}
        resource_type = RESOURCE_TYPE_OF.get(event.pgh_obj_model, event.pgh_obj_model)
        result.append({
            "at": event.pgh_created_at,
            "resource_type": resource_type,
            "resource_id": event.pgh_obj_id,
            "event": event.pgh_label,
            "action": actions.get((event.pgh_context_id, resource_type, event.pgh_obj_id)) or context.get("action")
            or "",
            "actor": context.get("username") or ("system" if context.get("via") == "system" else ""),
            "via": context.get("via") or "",
            "request_id": context.get("request_id") or "",
            "task": context.get("task") or "",
            "changes": _changes(event),
        })
    return result


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


def csv_lines(events) -> Iterator[str]:
    """The events as CSV, a chunk of rows at a time: the export never holds the whole set in memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for batch in _chunks(events):
        for row in batch:
            yield writer.writerow([row["at"].isoformat(), *(row[c] for c in EXPORT_COLUMNS[1:-1]),
                                   json.dumps(row["changes"], cls=DjangoJSONEncoder, sort_keys=True)])


def json_lines(events) -> Iterator[str]:
    """The events as one JSON array, streamed element by element."""
    yield "["
    first = True
    for batch in _chunks(events):
        for row in batch:
            yield ("\n" if first else ",\n") + json.dumps(row, cls=DjangoJSONEncoder, sort_keys=True)
            first = False
    yield "\n]\n"
