"""Topics kept in the real event store (FerretDB): a binding row as the bindings' service writes it, and documents
written with pymongo in the sink's layout into the binding's own collection, dropped afterwards."""

import datetime as dt
import socket

import pytest
from pymongo import ASCENDING, MongoClient

from onboarding.models import EventStoreBinding, ResourceStatus
from onboarding.reconcile.event_store_backfill import copies_of
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.selectors.event_store import collection_for
from onboarding.services.topics import topic_create
from tests.fixtures.eventstore import event_store_uri

START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def document(topic: str, partition: int, offset: int, *, minutes: float, key=None, **value) -> dict:
    """One event as the sink writes it in log mode."""
    return {"_id": f"{topic}#{partition}#{offset}", "_ts": START + dt.timedelta(minutes=minutes),
            "_partition": partition, "_offset": offset, "_key": key, "value": value}


def ready_topic(actor, cluster, team, name, **fields):
    topic = topic_create(actor=actor, cluster=cluster, team=team, name=name, partitions=2, replication_factor=1,
                         **fields)
    reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY, topic.last_error
    return topic


@pytest.fixture
def store():
    client = MongoClient(event_store_uri(), serverSelectionTimeoutMS=10_000, tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def keep(store):
    """``keep(topic, documents, indexed=())``: the topic bound to the store and its collection filled; returns the
    collection. Collections are dropped at the end."""
    made = []

    def make(topic, documents, *, indexed=(), by_hour=True):
        """``by_hour``: every document has its hour bucket, as the binding's finished backfill says; else the
        documents have none (a store from before the hours) and queries read a range with one find."""
        binding = EventStoreBinding.objects.create(
            topic=topic, team=topic.team, indexed_fields=list(indexed), status=ResourceStatus.READY,
            backfill={"fields": sorted(indexed), "hours": True, "state": "done"} if by_hour else {})
        where = collection_for(binding)
        collection = store[where.database][where.collection]
        made.append(collection)
        collection.create_index([("_ts", ASCENDING)], name="by_time")
        collection.create_index([("_key", ASCENDING)], name="_key")
        # As the sink writes them: a top-level copy of each indexed field, which the index is on, and the hour.
        copies = {path: binding.copy_name(path) for path in binding.indexed_paths}
        for copy in copies.values():
            collection.create_index([(copy, ASCENDING)], name=copy)
        if by_hour:
            collection.create_index([("_h", ASCENDING)], name="_h")
            copies["_ts"] = "_h"
        if documents:
            collection.insert_many([{**document, **copies_of(document, copies)} for document in documents])
        return collection

    yield make
    for collection in made:
        collection.drop()


@pytest.fixture
def silent_store():
    """A MongoDB address that accepts connections (the kernel's backlog) and never answers: a hung store."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"mongodb://127.0.0.1:{listener.getsockname()[1]}/"
