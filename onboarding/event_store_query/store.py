"""The event store's reader: one pymongo client per store address and process, and finds that stop at maxTimeMS.

pymongo's own errors stay here: a find that ran out of time is EventStoreTimeout, a store that does not answer is
EventStoreUnavailable, so the query service never handles a client library's exceptions.
"""

from __future__ import annotations

import threading

from pymongo import MongoClient
from pymongo.errors import ExecutionTimeout, OperationFailure, PyMongoError

from onboarding.event_store_query.find import Find

SERVER_SELECTION_MS = 5_000
_clients: dict[str, MongoClient] = {}
_lock = threading.Lock()


class EventStoreTimeout(Exception):
    """The find ran longer than maxTimeMS and the store stopped it."""


class EventStoreUnavailable(Exception):
    """The store did not answer, or refused the find."""


def client(uri: str, *, max_time_ms: int) -> MongoClient:
    """Made on first use (after a server's fork), then shared: the client is thread-safe and pools connections."""
    with _lock:
        existing = _clients.get(uri)
        if existing is None:
            # The socket waits a little longer than the server-side limit, so the store's own time-out answers.
            existing = MongoClient(uri, serverSelectionTimeoutMS=SERVER_SELECTION_MS, tz_aware=True,
                                   socketTimeoutMS=max_time_ms + 10_000, appname="portal-event-store-query")
            _clients[uri] = existing
        return existing


def run_find(mongo: MongoClient, database: str, collection: str, find: Find, *, max_time_ms: int) -> list[dict]:
    try:
        # One batch holds the whole page: FerretDB keeps a Postgres connection for every open cursor, so a page read
        # in several batches would hold one between round trips.
        cursor = mongo[database][collection].find(find.filter, find.projection, sort=find.sort, limit=find.limit,
                                                  batch_size=find.limit, max_time_ms=max_time_ms)
        with cursor:
            return list(cursor)
    except ExecutionTimeout as exc:
        raise EventStoreTimeout(str(exc)) from None
    except OperationFailure as exc:
        if exc.code == 50:  # MaxTimeMSExpired, when a server does not name it as pymongo expects
            raise EventStoreTimeout(str(exc)) from None
        raise EventStoreUnavailable(f"the event store refused the query: {exc}") from None
    except PyMongoError as exc:
        raise EventStoreUnavailable(f"the event store did not answer: {exc}") from None
