"""Query a topic's events in the event store from the portal: an htmx form of filter rows, time range, sort and
limit, and one page of masked results with a link to the next. The form is turned into the API's query body, so
the service's checks (and their texts) are the API's."""

from __future__ import annotations

import json

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from onboarding.errors import NotAnswering, NotFound, PermissionDenied, ValidationError
from onboarding.event_store_query.language import DEFAULT_LIMIT, MAX_LIMIT, TIME
from onboarding.event_store_query.service import NOT_KEPT, location_for, may_query, topic_query
from onboarding.models import AuditEvent
from onboarding.platform import PlatformError
from onboarding.selectors import topic_for
from onboarding.views.common import portal_view

OPERATORS = [("$eq", "="), ("$ne", "≠"), ("$gt", ">"), ("$gte", "≥"), ("$lt", "<"), ("$lte", "≤"),
             ("$in", "in (comma-separated)"), ("$nin", "not in (comma-separated)"), ("$exists", "exists (true/false)"),
             ("$regex", "matches (^anchored regex)")]
MIN_ROWS = 3


def form_rows(data) -> list[dict]:
    """The filter rows as sent (field_0, op_0, value_0, ...), empty rows kept so the page shows them again."""
    rows, index = [], 0
    while f"field_{index}" in data and index < 50:
        rows.append({"field": data.get(f"field_{index}", "").strip(), "op": data.get(f"op_{index}", "$eq"),
                     "value": data.get(f"value_{index}", "")})
        index += 1
    return rows


def _value(op: str, text: str):
    """A row's value as the API takes it: JSON when it reads as JSON (10, true, null, "10"), else the text."""
    if op in ("$in", "$nin"):
        return [_value("$eq", part.strip()) for part in text.split(",") if part.strip()]
    if op == "$regex":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def query_body(data, rows: list[dict]) -> dict:
    """The page's fields as the API's body: a row's field and operator are the filter's path, so an error keyed
    ``filter.<field>.<op>`` belongs to that row."""
    conditions: dict[str, dict] = {}
    for row in rows:
        if row["field"]:
            conditions.setdefault(row["field"], {})[row["op"]] = _value(row["op"], row["value"])
    body = {"filter": conditions}
    for name in ("from", "to", "sort", "limit", "cursor"):
        if data.get(name):
            body[name] = data[name]
    return body


def _row_errors(rows: list[dict], errors: dict[str, list[str]]) -> list[str]:
    """Each row gets the errors of its path; the rest is returned for the top of the form."""
    claimed = set()
    for row in rows:
        paths = (f"filter.{row['field']}.{row['op']}", f"filter.{row['field']}")
        row["errors"] = [text for path in paths for text in errors.get(path, [])]
        claimed.update(paths)
    return [text for path, texts in errors.items() if path not in claimed and not path.startswith(("from", "to",
                                                                                                    "sort", "limit"))
            for text in texts]


@portal_view
@require_http_methods(["GET", "POST"])
def event_store_query_view(request, pk: int):
    topic = topic_for(request.user, pk)  # a private topic of another team is a 404
    if not may_query(request.user, topic):  # the empty form would show the topic's indexed fields
        raise PermissionDenied("Only the topic's team, platform operators and teams with an approved subscription "
                               "can query its events.")
    location = location_for(topic)
    if location is None:
        raise NotFound(NOT_KEPT)
    data = request.POST if request.method == "POST" else request.GET
    rows = form_rows(data)
    # At least MIN_ROWS rows, and always one empty row to add a condition with.
    empty = sum(1 for row in rows if not row["field"])
    rows += [{"field": "", "op": "$eq", "value": ""} for _ in range(max(MIN_ROWS - len(rows), 1 - empty, 0))]
    context = {"topic": topic, "rows": rows, "operators": OPERATORS, "sortable": [TIME, *location.indexed],
               "values": {name: data.get(name, "") for name in ("from", "to", "sort", "limit")},
               "default_limit": DEFAULT_LIMIT, "max_limit": MAX_LIMIT, "section": "topics", "errors": {}}
    status = 200
    if request.method == "POST":
        try:
            context["result"] = topic_query(actor=request.user, topic=topic, body=query_body(data, rows),
                                            via=AuditEvent.Via.BROWSER)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            context["errors"] = errors
            context["general_errors"] = _row_errors(rows, errors)
            context["field_errors"] = [(name, text) for name in ("from", "to", "sort", "limit")
                                       for text in errors.get(name, [])]
            status = 400
        except NotAnswering as exc:
            context["general_errors"], status = [str(exc)], 503
        except PlatformError as exc:
            context["general_errors"], status = [f"The event store did not answer: {exc}. Try again in a moment."], 503
    if request.htmx:
        # htmx swaps only 2xx answers: the form with its errors is still shown in place.
        return render(request, "event_store/_query.html", context)
    return render(request, "event_store/query.html", context, status=status)
