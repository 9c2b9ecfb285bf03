"""The event store's reader: one pymongo client per store address and process, and finds that stop at maxTimeMS.

pymongo's own errors stay here: a find that ran out of time is EventStoreTimeout, a store that cannot be reached
or stops answering mid-find is EventStoreNotAnswering, one that refuses the find EventStoreUnavailable, so the
query service never handles a client library's exceptions.

No wait is unbounded: reaching the store (connect and server selection) takes at most ``connect_ms``, and a find
at most maxTimeMS on the server plus SOCKET_MARGIN_MS on the socket; a hung store (FerretDB can hang when its
Postgres connections run out) therefore ends a request in seconds instead of holding a web worker.
"""

from __future__ import annotations

import threading
import time

from pymongo import MongoClient
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure, PyMongoError

from onboarding.event_store_query.documents import DocumentShape
from onboarding.event_store_query.find import Find, in_hour

# The socket waits a little longer than the server-side limit, so the store's own time-out answers first.
SOCKET_MARGIN_MS = 2_000
_clients: dict[tuple[str, int, int], MongoClient] = {}
_lock = threading.Lock()


class EventStoreTimeout(Exception):
    """The find ran longer than maxTimeMS and the store stopped it."""


class EventStoreUnavailable(Exception):
    """The store did not answer, or refused the find."""


class EventStoreNotAnswering(EventStoreUnavailable):
    """The store could not be reached in time, or stopped answering during the find."""


def client(uri: str, *, max_time_ms: int, connect_ms: int = 5_000) -> MongoClient:
    """Made on first use (after a server's fork), then shared: the client is thread-safe and pools connections."""
    key = (uri, max_time_ms, connect_ms)
    with _lock:
        existing = _clients.get(key)
        if existing is None:
            existing = MongoClient(uri, serverSelectionTimeoutMS=connect_ms, connectTimeoutMS=connect_ms,
                                   socketTimeoutMS=max_time_ms + SOCKET_MARGIN_MS, tz_aware=True,
                                   appname="portal-event-store-query")
            _clients[key] = existing
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
    except ConnectionFailure as exc:  # server selection, connect and socket time-outs, a dropped connection
        raise EventStoreNotAnswering(f"the event store did not answer: {exc}") from None
    except PyMongoError as exc:
        raise EventStoreUnavailable(f"the event store did not answer: {exc}") from None


def run_by_hour(mongo: MongoClient, database: str, collection: str, find: Find, shape: DocumentShape,
                hours: list[str], *, max_time_ms: int) -> list[dict]:
    """``find`` read one hour bucket after another (hours in the query's order) until it has its limit: the same
    documents in the same order as the one find, since the hours partition the range. All of it within
    ``max_time_ms``, like the one find."""
    deadline = time.monotonic() + max_time_ms / 1000
    documents: list[dict] = []
    for hour in hours:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            raise EventStoreTimeout(f"{len(documents)} documents read hour by hour in {max_time_ms} ms")
        one_hour = in_hour(find, shape, hour, limit=find.limit - len(documents))
        documents += run_find(mongo, database, collection, one_hour, max_time_ms=left_ms)
        if len(documents) >= find.limit:
            break
    return documents
