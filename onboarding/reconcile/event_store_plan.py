"""What an event store binding needs, as plain data: the sink connector's whole config, the collection's
indexes, and the Connect worker's rights (in the shape the connectors' ACL planner reads).

The sink is Kafka Connect's MongoDB connector, as the project's ``EventStoreSinkConnector`` (aggregator module),
with the project's own plugins: ``RegistryConverter`` (Confluent wire format through the registry) for keys and
values, and the ``EventDocument`` transformation, which builds the document and puts its id into the key as
``{"_id": ...}`` (log: ``<topic>#<partition>#<offset>``; table: the record key), read by ``ProvidedInKeyStrategy``.
A log's writes are unordered bulk inserts: a record delivered again after a worker restart is refused as a
duplicate of its own document, which the connector's task counts as written (on FerretDB an insert costs a small
part of an upsert). A table's writes are ``ReplaceOne`` upserts by key, which replace the key's document.

Indexed fields: the transformation's ``indexed`` option names them as document paths (``value.ward``), and it
writes a top-level copy of each (``_i:value:ward``, ``EventStoreBinding.copy_name``); the indexes are on those
copies, since FerretDB 1.x answers a filter on a nested path without any index (20 s at 1M documents against
0.2 s on the copy, scripts/bench/event_store.py). Documents stored before a field was indexed get their copy
from the backfill (``event_store_backfill``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from onboarding.models import EventStoreBinding, ResourceStatus
from onboarding.models.event_store import COPY_PREFIX
from onboarding.platform.connection import registry_connection_for
from onboarding.platform.event_store import IndexSpec

SINK_CLASS = "portal.aggregator.connect.EventStoreSinkConnector"
CONVERTER = "portal.aggregator.connect.RegistryConverter"
TRANSFORM = "portal.aggregator.connect.EventDocument"
_STRATEGIES = "com.mongodb.kafka.connect.sink"
# FerretDB 1.24 holds one of its 50 pooled Postgres connections per upsert of an existing document until the
# write command ends, and waits for ever (until restarted) when they run out: every in-flight upsert on the store
# counts, across a sink's tasks and across sinks, and a replay after a worker restart upserts existing documents
# only. So by default one task per sink with a table's batches of 20 (two sinks replaying at once stay under 50);
# a production MongoDB has no such limit, and EVENT_STORE_SINK_TASKS / EVENT_STORE_SINK_BATCH_SIZE raise them. A
# log's inserts hold no connection per document: EVENT_STORE_LOG_BATCH_SIZE (500, a poll's worth).
MAX_BATCH_SIZE = 40
# A registry that does not answer is retried this long before a record counts as failed (dead-letter topic).
RETRY_TIMEOUT_MS = 300_000
# The event time every document carries (the record timestamp), indexed for time ranges and the retention.
TIME_FIELD = "_ts"
TIME_INDEX = "_ts"
# The record key every document carries (top level), indexed for the commonest query: one key's events. On the
# local store an index's leading field also gets the GIN index FerretDB's equalities need (eventstore.sql).
KEY_FIELD = "_key"
KEY_INDEX = "_key"
# The hour of the event time (EventDocument.hourOf), indexed so that a bounded time range is read as one equality
# per hour (event_store_query.find.hours_of): FerretDB 1.x never hands a range to Postgres.
HOUR_FIELD = "_h"
HOUR_INDEX = "_h"


def connector_config(binding: EventStoreBinding) -> dict[str, str]:
    """The whole config the worker gets (PUT /connectors/<name>/config)."""
    topic = binding.topic
    table = binding.mode == EventStoreBinding.Mode.TABLE
    registry = registry_connection_for(topic.cluster).url
    config = {
        "name": binding.connector_name,
        "connector.class": SINK_CLASS,
        "topics": topic.name,
        "tasks.max": str(max(1, min(topic.partitions, settings.EVENT_STORE_SINK_TASKS))),
        "connection.uri": settings.EVENT_STORE_CONNECT_URI,
        "database": binding.database_name,
        "collection": binding.collection_name,
        "key.converter": CONVERTER,
        "key.converter.schema.registry.url": registry,
        "value.converter": CONVERTER,
        "value.converter.schema.registry.url": registry,
        "transforms": "document",
        "transforms.document.type": TRANSFORM,
        "transforms.document.mode": binding.mode,
        "transforms.document.indexed": ",".join(binding.indexed_paths),
        "document.id.strategy": f"{_STRATEGIES}.processor.id.strategy.ProvidedInKeyStrategy",
        "writemodel.strategy": f"{_STRATEGIES}.writemodel.strategy."
                               f"{'ReplaceOneDefaultStrategy' if table else 'InsertOneDefaultStrategy'}",
        "delete.on.null.values": "true" if table else "false",
        # A table's upserts are capped for FerretDB (MAX_BATCH_SIZE); a log's inserts are not.
        "max.batch.size": str(min(MAX_BATCH_SIZE, settings.EVENT_STORE_SINK_BATCH_SIZE) if table
                              else settings.EVENT_STORE_LOG_BATCH_SIZE),
        # A log's inserts are unordered, so a duplicate (a record written again) stops none of the others; a table's
        # writes of one key must land in their order.
        "bulk.write.ordered": "true" if table else "false",
        # A record that cannot be read or shaped goes to <topic>.dlq with the reason in __connect.errors.*
        # headers, and the sink goes on. A table's store refusing writes fails the task instead (the reconciler's
        # state check restarts it): those records are not bad, and dropping them would lose events. A log's
        # failed writes are sorted by the project's task (EventStoreSinkTask): a duplicate (a record written
        # again) counts as written, a record the store refused goes to the dead-letter topic, and a store that
        # is away makes the worker retry the whole put.
        "errors.tolerance": "all",
        "mongo.errors.tolerance": "none" if table else "all",
        "errors.deadletterqueue.topic.name": binding.dead_letter_topic,
        "errors.deadletterqueue.context.headers.enable": "true",
        "errors.deadletterqueue.topic.replication.factor": str(topic.replication_factor),
        "errors.retry.timeout": str(RETRY_TIMEOUT_MS),
        "errors.retry.delay.max.ms": "30000",
        "errors.log.enable": "true",
        # MongoDB's sink would log each record a write refused, value included (PHI), and every record of a log
        # written again after a restart is such a refusal. (It logs them whatever this says where it fails the
        # task, a table's case.)
        "mongo.errors.log.enable": "false",
    }
    if table:
        config["delete.writemodel.strategy"] = f"{_STRATEGIES}.writemodel.strategy.DeleteOneDefaultStrategy"
    else:
        # One poll fills one bulk insert: the worker's consumer hands a task at most max.poll.records (500).
        config["consumer.override.max.poll.records"] = str(settings.EVENT_STORE_LOG_BATCH_SIZE)
    return config


def index_name(field: str) -> str:
    """An indexed value field's index is named as the copy it is on (``_i:value:ward``)."""
    return copy_field(field)


def copy_field(field: str) -> str:
    """The top-level copy of an indexed value field (``ward`` -> ``_i:value:ward``)."""
    return EventStoreBinding.copy_name(EventStoreBinding.document_path(field))


def planned_indexes(binding: EventStoreBinding) -> dict[str, IndexSpec]:
    """The event time (with the retention as TTL), its hour, the record key, and one index per indexed value field
    on its top-level copy, by name."""
    ttl = binding.retention_days * 86_400 if binding.retention_days else None
    specs = {TIME_INDEX: IndexSpec(TIME_INDEX, (TIME_FIELD,), ttl), KEY_INDEX: IndexSpec(KEY_INDEX, (KEY_FIELD,)),
             HOUR_INDEX: IndexSpec(HOUR_INDEX, (HOUR_FIELD,))}
    for field in binding.indexed_fields:
        specs[index_name(field)] = IndexSpec(index_name(field), (copy_field(field),))
    return specs


def index_differences(planned: dict[str, IndexSpec], observed: dict[str, IndexSpec], *,
                      ttl_supported: bool = True) -> dict:
    """Indexes missing or different on the store, and indexes the portal made that are no longer wanted.
    A store without TTL indexes reports no expiry; that is not a difference."""
    diff: dict = {}
    for name, spec in planned.items():
        have = observed.get(name)
        want = spec if ttl_supported else IndexSpec(spec.name, spec.keys, None)
        if have is None:
            diff[name] = {"desired": list(spec.keys), "observed": None}
        elif have.keys != want.keys or (ttl_supported and have.expire_after_seconds != want.expire_after_seconds):
            diff[name] = {"desired": [*spec.keys, spec.expire_after_seconds],
                          "observed": [*have.keys, have.expire_after_seconds]}
    for name in observed.keys() - planned.keys():
        if _portal_index(name):
            diff[name] = {"desired": None, "observed": list(observed[name].keys)}
    return diff


def _portal_index(name: str) -> bool:
    # value.<field>: the indexes on nested paths made before the copies, removed by the next run.
    return name in (TIME_INDEX, KEY_INDEX, HOUR_INDEX) or name.startswith("value.") or name.startswith(COPY_PREFIX)


@dataclass(frozen=True)
class SinkForAcls:
    """A binding's sink as the connectors' ACL planner (reconcile.connectors.planned_acls) reads a connector:
    its team, its worker name and the config keys that name topics."""

    team: object
    connector_name: str
    config: dict


def live_bindings(cluster_id: int):
    return (EventStoreBinding.objects.filter(topic__cluster_id=cluster_id, delete_requested_at__isnull=True)
            .exclude(status=ResourceStatus.DELETED))


def event_store_sinks(cluster_id: int) -> list[SinkForAcls]:
    """The live bindings' sinks: the worker reads their topics and writes their dead-letter topics."""
    return [SinkForAcls(team=b.team, connector_name=b.connector_name,
                        config={"topics": b.topic.name, "errors.deadletterqueue.topic.name": b.dead_letter_topic})
            for b in live_bindings(cluster_id).select_related("team", "topic")]
