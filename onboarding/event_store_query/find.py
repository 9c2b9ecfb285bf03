"""A checked query as the arguments of one MongoDB find: filter, sort, projection and limit. Pure.

Pages are a keyset on (sort field, _id): the next page starts after the last document's pair, so documents
written meanwhile never shift a page (no gaps or repeats, unlike skip). Documents without the sort field are left
out of a sort on that field, since no keyset condition can place them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from onboarding.event_store_query.documents import DocumentShape, hour_of, hour_start
from onboarding.event_store_query.language import TIME, Query

# A time-ordered query over at most this many hours is read hour by hour (hour_finds): each hour's find is an
# equality on the hour field, which a store that answers only equalities from its indexes (FerretDB 1.x) serves,
# where the range alone makes it decode every document the other conditions match. More hours, and a sparse topic
# would cost more round trips than the range saves.
MAX_HOURS = 24


@dataclass(frozen=True)
class Find:
    filter: dict
    sort: list[tuple[str, int]]
    projection: dict | None
    limit: int


def find_of(query: Query, shape: DocumentShape, *, after: tuple[object, object] | None = None) -> Find:
    """The find for one page; ``after``: the (sort value, id) the previous page ended with.

    The limit is one more than asked for: whether a document follows says whether there is a next page."""
    sort_path = shape.path(query.sort_field)
    parts = [shape.filter(query.filter)] if query.filter else []
    time_range = {}
    if query.time_from:
        time_range["$gte"] = query.time_from
    if query.time_to:
        time_range["$lt"] = query.time_to
    if time_range:
        parts.append({shape.time_field: time_range})
    if sort_path != shape.time_field:
        parts.append({sort_path: {"$exists": True, "$ne": None}})
    if after is not None:
        value, document_id = after
        beyond = "$lt" if query.descending else "$gt"
        parts.append({"$or": [{sort_path: {beyond: value}}, {sort_path: value, "_id": {beyond: document_id}}]})
    direction = -1 if query.descending else 1
    projection = _projection(query, shape, sort_path) if query.projection else None
    return Find(filter=_all_of(parts), sort=[(sort_path, direction), ("_id", direction)], projection=projection,
                limit=query.limit + 1)


def _all_of(parts: list[dict]) -> dict:
    """The parts as one document (an implicit AND) wherever no two name the same field, the rest under ``$and``.

    Same meaning, but FerretDB 1.x hands only a document's own top-level equalities to Postgres (``$and`` never):
    an equality on a top-level field (key, partition, offset) is then answered by Postgres instead of every
    document being decoded and matched in FerretDB."""
    merged: dict = {}
    rest: list[dict] = []
    for part in parts:
        if merged.keys() & part.keys():
            rest.append(part)
        else:
            merged.update(part)
    if rest:
        merged["$and"] = [*merged.get("$and", []), *rest]
    return merged


def _projection(query: Query, shape: DocumentShape, sort_path: str) -> dict:
    """The metadata, the sort field and the asked fields; a path under another one is left out (MongoDB refuses
    a projection with both ``value.a`` and ``value.a.b``, and the first returns the second anyway)."""
    paths = sorted({*shape.metadata_fields, sort_path, *(shape.path(name) for name in query.projection)})
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(f"{parent}.") for parent in kept):
            kept.append(path)
    return dict.fromkeys(kept, 1)


def hours_of(query: Query, after: tuple[object, object] | None = None, *, max_hours: int = MAX_HOURS) -> list[str]:
    """The hour buckets a page of a time-ordered query reads, in the query's order: from the range's first hour
    to the hour of its end (exclusive), and from the cursor's hour on for a next page. Empty when the query is
    not ordered by time, its range is open at either end, or it spans more than ``max_hours``."""
    if query.sort_field != TIME or query.time_from is None or query.time_to is None:
        return []
    first, last = hour_start(query.time_from), hour_start(query.time_to - dt.timedelta(microseconds=1))
    if last - first >= dt.timedelta(hours=max_hours):
        return []
    if after is not None and isinstance(after[0], dt.datetime):
        at = hour_start(after[0])
        first, last = (first, min(last, at)) if query.descending else (max(first, at), last)
    hours = []
    moment = first
    while moment <= last:
        hours.append(hour_of(moment))
        moment += dt.timedelta(hours=1)
    return hours[::-1] if query.descending else hours


def in_hour(find: Find, shape: DocumentShape, hour: str, *, limit: int) -> Find:
    """``find`` restricted to one hour bucket (a top-level equality, so the store can hand it to its index)."""
    return replace(find, filter={**find.filter, shape.hour_field: hour}, limit=limit)
