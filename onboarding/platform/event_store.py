"""The event store through the MongoDB API (MongoDB in production, FerretDB in the local stack), behind
PlatformError. It knows databases, collections and indexes by name, never a binding.

Indexes are described as ``IndexSpec(name, keys, expire_after_seconds)``. A store without TTL indexes (FerretDB
answers createIndexes with expireAfterSeconds "not implemented") gets the same index without the option, and
``create_index`` says so: the caller then removes expired documents itself (``delete_older_than``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pymongo import ASCENDING, MongoClient, UpdateOne
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from onboarding.platform.errors import PlatformError

_NOT_IMPLEMENTED = 238


@dataclass(frozen=True)
class IndexSpec:
    name: str
    keys: tuple[str, ...]
    expire_after_seconds: int | None = None

    def key_list(self) -> list[tuple[str, int]]:
        return [(k, ASCENDING) for k in self.keys]


def _error(exc: PyMongoError, what: str) -> PlatformError:
    retryable = isinstance(exc, ConnectionFailure) or not isinstance(exc, OperationFailure)
    code = str(getattr(exc, "code", "") or exc.__class__.__name__)
    return PlatformError(f"The event store could not {what}: {exc}", retryable=retryable, code=code)


class EventStore:
    """One client to the store; close it (or use ``with``) afterwards."""

    def __init__(self, uri: str, *, timeout_ms: int = 5000):
        if not uri:
            raise PlatformError("No event store is configured (EVENT_STORE_URI).", retryable=False,
                                code="no_store")
        self.client = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms,
                                  socketTimeoutMS=max(timeout_ms, 60_000), tz_aware=True)

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def _collection(self, database: str, collection: str):
        return self.client[database][collection]

    def ensure_collection(self, database: str, collection: str) -> bool:
        """Create the collection when it is missing; True when it was created."""
        try:
            if collection in self.client[database].list_collection_names():
                return False
            self.client[database].create_collection(collection)
            return True
        except OperationFailure as exc:
            if exc.code == 48:  # NamespaceExists: created meanwhile by the sink's first write
                return False
            raise _error(exc, f"create {database}.{collection}") from None
        except PyMongoError as exc:
            raise _error(exc, f"create {database}.{collection}") from None

    def indexes(self, database: str, collection: str) -> dict[str, IndexSpec]:
        """The collection's indexes by name (the built-in _id index left out); empty when it does not exist."""
        try:
            info = self._collection(database, collection).index_information()
        except OperationFailure as exc:
            if exc.code == 26:  # NamespaceNotFound
                return {}
            raise _error(exc, f"list the indexes of {database}.{collection}") from None
        except PyMongoError as exc:
            raise _error(exc, f"list the indexes of {database}.{collection}") from None
        return {name: IndexSpec(name, tuple(k for k, _ in spec["key"]), spec.get("expireAfterSeconds"))
                for name, spec in info.items() if name != "_id_"}

    def create_index(self, database: str, collection: str, spec: IndexSpec) -> bool:
        """Create the index; False when the store has no TTL indexes and the index was made without expiry."""
        target = self._collection(database, collection)
        try:
            if spec.expire_after_seconds is None:
                target.create_index(spec.key_list(), name=spec.name)
                return True
            try:
                target.create_index(spec.key_list(), name=spec.name, expireAfterSeconds=spec.expire_after_seconds)
                return True
            except OperationFailure as exc:
                if exc.code != _NOT_IMPLEMENTED:
                    raise
                target.create_index(spec.key_list(), name=spec.name)
                return False
        except PyMongoError as exc:
            raise _error(exc, f"create the index {spec.name} on {database}.{collection}") from None

    def drop_index(self, database: str, collection: str, name: str) -> None:
        try:
            self._collection(database, collection).drop_index(name)
        except OperationFailure as exc:
            if exc.code == 27:  # IndexNotFound
                return
            raise _error(exc, f"drop the index {name} on {database}.{collection}") from None
        except PyMongoError as exc:
            raise _error(exc, f"drop the index {name} on {database}.{collection}") from None

    def delete_older_than(self, database: str, collection: str, field: str, cutoff: datetime) -> int:
        try:
            return self._collection(database, collection).delete_many({field: {"$lt": cutoff}}).deleted_count
        except PyMongoError as exc:
            raise _error(exc, f"remove expired documents of {database}.{collection}") from None

    def batches(self, database: str, collection: str, query: dict, projection: dict, size: int
                ) -> Iterator[list[dict]]:
        """The documents matching ``query`` (only the ``projection``'s fields), ``size`` at a time, read by one
        cursor in the store's own order: no sort, which a store without sort pushdown (FerretDB 1.x) would redo
        over the whole collection for every page."""
        try:
            with self._collection(database, collection).find(query, projection, batch_size=size) as cursor:
                batch: list[dict] = []
                for document in cursor:
                    batch.append(document)
                    if len(batch) == size:
                        yield batch
                        batch = []
                if batch:
                    yield batch
        except PyMongoError as exc:
            raise _error(exc, f"read the documents of {database}.{collection}") from None

    def set_where_missing(self, database: str, collection: str, updates: list[tuple[object, dict]]) -> int:
        """For each (document id, fields): set the fields on the document if it still has none of them (one
        replaced meanwhile by a newer write already carries its own); how many documents were changed."""
        if not updates:
            return 0
        operations = [UpdateOne({"_id": document_id, **{name: {"$exists": False} for name in fields}},
                                {"$set": fields}) for document_id, fields in updates]
        try:
            return self._collection(database, collection).bulk_write(operations, ordered=False).modified_count
        except PyMongoError as exc:
            raise _error(exc, f"update the documents of {database}.{collection}") from None

    def drop_collection(self, database: str, collection: str) -> None:
        try:
            self._collection(database, collection).drop()
        except PyMongoError as exc:
            raise _error(exc, f"drop {database}.{collection}") from None
