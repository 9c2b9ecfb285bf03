"""How the event store keeps a topic's events, and how a stored document becomes a result.

A query names fields as a result shows them (``value.status``, ``key``, ``partition``, ``offset``, ``timestamp``);
``DocumentShape`` translates those names to the stored document's and turns a document back into a result, so the
query language and the API stay the same whatever layout the sink writes. Pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from onboarding.event_store_query.language import TIME


@dataclass(frozen=True)
class DocumentShape:
    """Where a document keeps the decoded value (``value_prefix`` ``""``: its fields at the top level) and the
    Kafka metadata. The id is always ``topic#partition#offset``.

    ``copies``: (result name, top-level field) of each indexed field the sink also writes at the top level
    (``("value.ward", "_i:value:ward")``). A filter or sort on such a field reads the copy, which the store's index
    is on: FerretDB 1.x answers a condition on a nested path by decoding every document. The copy holds scalars
    only, which is all a filter can compare with; a field holding an object or a list has no copy, so ``$exists``
    on it reads false there."""

    value_prefix: str = "value."
    time_field: str = "_ts"
    hour_field: str = "_h"  # the hour of the time field, as hour_of writes it (the sink: EventDocument.hourOf)
    key_field: str = "_key"
    partition_field: str = "_partition"
    offset_field: str = "_offset"
    copies: tuple[tuple[str, str], ...] = ()

    def with_copies(self, copies: Iterable[tuple[str, str]]) -> DocumentShape:
        return replace(self, copies=tuple(copies))

    @property
    def metadata_fields(self) -> tuple[str, ...]:
        return ("_id", self.time_field, self.key_field, self.partition_field, self.offset_field)

    def path(self, name: str) -> str:
        """The stored path of a result's field name (its top-level copy when it is an indexed field)."""
        for copied, copy in self.copies:
            if name == copied:
                return copy
        root, _, rest = name.partition(".")
        if root == "value":
            return f"{self.value_prefix}{rest}"
        if root == "key":
            return f"{self.key_field}.{rest}" if rest else self.key_field
        return {TIME: self.time_field, "partition": self.partition_field, "offset": self.offset_field}.get(root, name)

    def filter(self, query_filter):
        """A checked filter with every field name replaced by its stored path."""
        if isinstance(query_filter, list):
            return [self.filter(item) for item in query_filter]
        if isinstance(query_filter, Mapping):
            return {(name if name.startswith("$") else self.path(name)): (
                self.filter(condition) if name in ("$and", "$or") else condition)
                for name, condition in query_filter.items()}
        return query_filter

    def event(self, document: Mapping) -> dict:
        """A stored document as a result: id, partition, offset, timestamp (aware, UTC), key and value."""
        if self.value_prefix:
            value = _get(document, self.value_prefix.rstrip("."))
        else:
            value = {name: item for name, item in document.items() if name not in self.metadata_fields}
        return {"id": document.get("_id"), "partition": document.get(self.partition_field),
                "offset": document.get(self.offset_field), "timestamp": _aware(document.get(self.time_field)),
                "key": document.get(self.key_field), "value": value}


def hour_start(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC hour an event time is in (a naive time is UTC, as the store hands it back)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def hour_of(moment: dt.datetime) -> str:
    """The hour bucket of an event time, as the sink writes it: ``2026-01-01T05`` for 05:00 to 05:59:59.999 UTC."""
    return hour_start(moment).strftime("%Y-%m-%dT%H")


def _get(document: Mapping, path: str):
    current = document
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _aware(moment):
    # pymongo hands back naive UTC datetimes unless the client was made tz_aware.
    if isinstance(moment, dt.datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


# What the binding's sink writes (onboarding.selectors.event_store): the decoded event under ``value``, the record's
# timestamp (a date), key, partition and offset beside it.
SINK = DocumentShape()
