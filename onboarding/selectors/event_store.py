"""Where a topic's events are kept in the event store: its live binding, and the database and collection the
binding's sink writes. Names come from the binding's model (the reconciler uses the same), so the query side
reads exactly what the sink wrote.

The document layout the sink writes (aggregator's ``portal.aggregator.connect.EventDocument``): ``_id``
(``<topic>#<partition>#<offset>`` in log mode, the record key in table mode), ``_ts`` (the record timestamp as
a date), ``_partition``, ``_offset``, ``_key``, ``value`` (the decoded event). An indexed field ``customer.id``
of a binding is the document path ``value.customer.id`` (``EventStoreBinding.document_path``), also written at the
top level as ``_i:value:customer:id`` (``EventStoreBinding.copy_name``), which its index is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from onboarding.models import EventStoreBinding, ResourceStatus, Topic


@dataclass(frozen=True)
class Collection:
    """The store's coordinates of one binding: ``pymongo.MongoClient(uri)[database][collection]``."""

    uri: str
    database: str
    collection: str


def binding_for(topic: Topic) -> EventStoreBinding | None:
    """The topic's live binding (pending, ready, failed...), or None when the topic is not kept in the store.
    A binding being deleted still counts until it is gone: its documents are still there."""
    return (EventStoreBinding.objects.select_related("topic__cluster", "team")
            .filter(topic=topic).exclude(status=ResourceStatus.DELETED).first())


def collection_for(binding: EventStoreBinding) -> Collection:
    return Collection(uri=binding.store_uri(), database=binding.database_name, collection=binding.collection_name)
