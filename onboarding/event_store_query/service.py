"""Querying a topic's documents in the event store, for those allowed to read the topic: checked, masked, audited.

Who may query: whoever may peek at the topic (its team, platform operators, teams with an approved, live
subscription; ``onboarding.peek.service.may_peek``), and a private topic stays 'not found' for anyone else.
Results are masked exactly as peek masks them (the topic's own and inherited tags, ``schemas.masking``), and a
tagged field cannot be filtered or sorted on. Every query that reaches the store is audited
(``event_store.query``: the filter, the range, the order, how many documents came back, and who), also when it
timed out or the store did not answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings

from onboarding.audit import audit_record
from onboarding.errors import NotAnswering, NotFound, PermissionDenied, ValidationError
from onboarding.event_store_query import cursor as cursors
from onboarding.event_store_query.documents import SINK, DocumentShape
from onboarding.event_store_query.find import find_of, hours_of
from onboarding.event_store_query.language import TIME, Query, QueryError, parse_query
from onboarding.event_store_query.store import (
    EventStoreNotAnswering,
    EventStoreTimeout,
    EventStoreUnavailable,
    client,
    run_by_hour,
    run_find,
)
from onboarding.history import context as history_context
from onboarding.models import AuditEvent, Topic
from onboarding.peek.service import may_peek, sensitive_paths
from onboarding.platform import PlatformError
from onboarding.reconcile.event_store_backfill import hours_covered
from onboarding.schemas.masking import Masker
from onboarding.selectors.event_store import binding_for, collection_for

ACTION = "event_store.query"
NOT_KEPT = "This topic is not kept in the event store."
NOT_ANSWERING = "The event store is not answering; try the query again in a moment."
# Seconds a caller waits before asking again: about a restart of a hung store.
RETRY_AFTER = 30


@dataclass(frozen=True)
class Location:
    """Where a topic's documents are, how they are laid out, and which value fields are indexed."""

    uri: str
    database: str
    collection: str
    shape: DocumentShape
    indexed: tuple[str, ...]  # as a query names them: value.<field>
    by_hour: bool = False  # every document has its hour bucket: a bounded time range may be read hour by hour


@dataclass
class QueryResult:
    topic: Topic
    query: Query
    events: list[dict]
    next_cursor: str | None
    masked: dict[str, dict[str, str]] = field(default_factory=dict)  # side -> path -> classification
    sortable: tuple[str, ...] = ()


def may_query(user, topic: Topic) -> bool:
    return may_peek(user, topic)


def location_for(topic: Topic) -> Location | None:
    """The topic's documents in the store, by its live binding; None when the topic is not kept there."""
    binding = binding_for(topic)
    if binding is None:
        return None
    where = collection_for(binding)
    indexed = tuple(binding.indexed_paths)
    shape = SINK.with_copies((path, binding.copy_name(path)) for path in indexed)
    return Location(uri=where.uri, database=where.database, collection=where.collection, shape=shape,
                    indexed=indexed, by_hour=hours_covered(binding))


def timeout_message(max_time_ms: int, sortable: tuple[str, ...]) -> str:
    indexed = f" such as {', '.join(sortable)}" if sortable else ""
    return (f"The query ran longer than {max_time_ms} ms and the event store stopped it. Narrow it: a shorter "
            f"time range (from, to), or a condition on an indexed field{indexed}.")


def topic_query(*, actor, topic: Topic, body, via: str = AuditEvent.Via.SYSTEM) -> QueryResult:
    """One page of the topic's stored events that match ``body`` (see ``language``), masked.

    ValidationError (field-level, at the query's paths) for a refused query, a foreign cursor or a time-out;
    NotAnswering when the store cannot be reached or stops answering (bounded waits, see ``store``);
    PlatformError when it refuses the find."""
    if not may_query(actor, topic):
        if topic.visibility == Topic.Visibility.PRIVATE:
            raise NotFound("No such topic.")
        raise PermissionDenied("Only the topic's team, platform operators and teams with an approved subscription "
                               "can query its events.")
    location = location_for(topic)
    if location is None:
        raise NotFound(NOT_KEPT)
    masked = sensitive_paths(topic)
    sortable = location.indexed
    try:
        query = parse_query(body, sortable=sortable, sensitive=masked)
    except QueryError as exc:
        raise ValidationError(exc.errors) from None
    after = None
    if query.cursor:
        try:
            after = cursors.verify(settings.SECRET_KEY, query.cursor, topic_id=topic.pk,
                                   fingerprint=query.fingerprint())
        except cursors.CursorError as exc:
            raise ValidationError({"cursor": [str(exc)]}) from None
    find = find_of(query, location.shape, after=after)
    max_time_ms = settings.EVENT_STORE_QUERY_MAX_TIME_MS
    try:
        mongo = client(location.uri, max_time_ms=max_time_ms, connect_ms=settings.EVENT_STORE_QUERY_CONNECT_MS)
        hours = hours_of(query, after) if location.by_hour else []
        if hours:
            documents = run_by_hour(mongo, location.database, location.collection, find, location.shape, hours,
                                    max_time_ms=max_time_ms)
        else:
            documents = run_find(mongo, location.database, location.collection, find, max_time_ms=max_time_ms)
    except EventStoreTimeout:
        _audit(actor, topic, via, query, 0, note=f"timed out after {max_time_ms} ms")
        raise ValidationError({"non_field_errors": [timeout_message(max_time_ms, sortable)]}) from None
    except EventStoreNotAnswering as exc:
        _audit(actor, topic, via, query, 0, note=f"failed: {exc}")
        raise NotAnswering(NOT_ANSWERING, retry_after=RETRY_AFTER) from None
    except EventStoreUnavailable as exc:
        _audit(actor, topic, via, query, 0, note=f"failed: {exc}")
        raise PlatformError(str(exc), retryable=True, code="EVENT_STORE_UNAVAILABLE") from None
    next_cursor = None
    if len(documents) > query.limit:
        documents = documents[:query.limit]
        last = documents[-1]
        next_cursor = cursors.sign(settings.SECRET_KEY, topic_id=topic.pk, fingerprint=query.fingerprint(),
                                   sort_value=_at(last, location.shape.path(query.sort_field)),
                                   document_id=last["_id"])
    value_masker, key_masker = Masker(masked.get("value", {})), Masker(masked.get("key", {}))
    events = []
    for document in documents:
        event = location.shape.event(document)
        event["value"] = value_masker.mask_own(event["value"])
        event["key"] = key_masker.mask_own(event["key"])
        events.append(event)
    _audit(actor, topic, via, query, len(events))
    return QueryResult(topic=topic, query=query, events=events, next_cursor=next_cursor, masked=masked,
                       sortable=(TIME, *sortable))


def _at(document: Mapping, path: str):
    current = document
    for part in path.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current


def _audit(actor, topic: Topic, via: str, query: Query, count: int, note: str = "") -> None:
    after = {"filter": query.filter, "from": query.time_from.isoformat() if query.time_from else None,
             "to": query.time_to.isoformat() if query.time_to else None,
             "sort": f"-{query.sort_field}" if query.descending else query.sort_field, "limit": query.limit,
             "next_page": bool(query.cursor), "returned": count}
    with history_context.opened(**history_context.user_fields(actor), via=via):
        audit_record(actor=actor, via=via, action=ACTION, obj=topic, team=topic.team, after=after, note=note)
