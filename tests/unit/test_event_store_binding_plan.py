"""The event store binding's plan as plain data: the sink config for each mode (document id strategy, tombstone
deletes, dead-letter topic with context headers, batches FerretDB survives) and the index differences the drift
check acts on (missing, changed, no longer wanted; a store without TTL is no difference)."""

from django.test import override_settings

from onboarding.models import Cluster, EventStoreBinding, Team, Topic
from onboarding.platform.event_store import IndexSpec
from onboarding.reconcile.event_store_plan import connector_config, index_differences, planned_indexes


def binding(**fields) -> EventStoreBinding:
    cluster = Cluster(name="local prod", registry_url="http://registry:8081/apis/ccompat/v7")
    team = Team(slug="payments")
    topic = Topic(cluster=cluster, team=team, name="payments.orders", partitions=6, replication_factor=3)
    return EventStoreBinding(topic=topic, team=team, **fields)


@override_settings(EVENT_STORE_CONNECT_URI="mongodb://store:27017/", EVENT_STORE_DATABASE="events",
                   EVENT_STORE_SINK_TASKS=2, EVENT_STORE_SINK_BATCH_SIZE=500)
def test_log_mode_sink_config():
    config = connector_config(binding(mode="log"))
    assert config["name"] == "_event-store.payments.orders"
    assert (config["database"], config["collection"]) == ("events_local_prod", "payments.orders")
    assert config["tasks.max"] == "2"
    assert config["max.batch.size"] == "500"  # EVENT_STORE_LOG_BATCH_SIZE: a log's inserts are not capped
    assert config["consumer.override.max.poll.records"] == "500"  # one poll fills one bulk insert
    assert config["transforms.document.type"] == "portal.aggregator.connect.EventDocument"
    assert config["transforms.document.indexed"] == ""
    assert config["document.id.strategy"].endswith("ProvidedInKeyStrategy")
    assert config["delete.on.null.values"] == "false" and "delete.writemodel.strategy" not in config
    # A log is inserted, unordered: the project's connector counts a record written again as written.
    assert config["connector.class"] == "portal.aggregator.connect.EventStoreSinkConnector"
    assert config["writemodel.strategy"].endswith("InsertOneDefaultStrategy")
    assert config["bulk.write.ordered"] == "false"
    assert config["mongo.errors.log.enable"] == "false"  # a refused record is not logged with its value (PHI)
    assert config["mongo.errors.tolerance"] == "all"  # its failed writes are sorted by the project's task
    assert config["key.converter.schema.registry.url"] == "http://registry:8081/apis/ccompat/v7"
    assert config["errors.deadletterqueue.topic.replication.factor"] == "3"


@override_settings(EVENT_STORE_CONNECT_URI="mongodb://store:27017/", EVENT_STORE_SINK_TASKS=16,
                   EVENT_STORE_SINK_BATCH_SIZE=20)
def test_table_mode_deletes_on_tombstones_and_tasks_follow_partitions():
    with override_settings(EVENT_STORE_SINK_BATCH_SIZE=500):
        assert connector_config(binding(mode="table"))["max.batch.size"] == "40"  # never above what FerretDB takes
    config = connector_config(binding(mode="table"))
    assert config["delete.on.null.values"] == "true"
    assert config["delete.writemodel.strategy"].endswith("DeleteOneDefaultStrategy")
    assert config["tasks.max"] == "6"
    assert connector_config(binding(mode="table"))["max.batch.size"] == "20"
    assert "consumer.override.max.poll.records" not in config
    # A table replaces each key's document, in the order of its records.
    assert config["writemodel.strategy"].endswith("ReplaceOneDefaultStrategy")
    assert config["bulk.write.ordered"] == "true"
    assert config["mongo.errors.tolerance"] == "none"  # a store refusing a key's write fails the task


def test_the_sink_copies_the_indexed_fields_to_the_top_level():
    config = connector_config(binding(indexed_fields=["customer.id", "status"]))
    assert config["transforms.document.indexed"] == "value.customer.id,value.status"


def test_planned_indexes_carry_the_retention_as_ttl():
    planned = planned_indexes(binding(retention_days=2, indexed_fields=["customer.id"]))
    # Indexed fields are indexed on their top-level copies (FerretDB 1.x uses no index for a nested path).
    assert planned == {"_ts": IndexSpec("_ts", ("_ts",), 172_800), "_key": IndexSpec("_key", ("_key",)),
                       "_h": IndexSpec("_h", ("_h",)),
                       "_i:value:customer:id": IndexSpec("_i:value:customer:id", ("_i:value:customer:id",))}
    assert planned_indexes(binding())["_ts"].expire_after_seconds is None


def test_index_differences():
    planned = planned_indexes(binding(retention_days=1, indexed_fields=["a"]))
    same = dict(planned)
    assert index_differences(planned, same) == {}
    assert index_differences(planned, {"_ts": planned["_ts"]}) == {
        "_key": {"desired": ["_key"], "observed": None}, "_h": {"desired": ["_h"], "observed": None},
        "_i:value:a": {"desired": ["_i:value:a"], "observed": None}}
    no_ttl = {**same, "_ts": IndexSpec("_ts", ("_ts",))}
    assert index_differences(planned, no_ttl) == {"_ts": {"desired": ["_ts", 86_400], "observed": ["_ts", None]}}
    assert index_differences(planned, no_ttl, ttl_supported=False) == {}
    # The portal's own no longer wanted: a copy's index, and one on a nested path made before the copies.
    extra = {**same, "_i:value:b": IndexSpec("_i:value:b", ("_i:value:b",)), "value.a": IndexSpec("value.a", (
        "value.a",)), "someone_elses": IndexSpec("x", ("x",))}
    assert index_differences(planned, extra) == {"_i:value:b": {"desired": None, "observed": ["_i:value:b"]},
                                                 "value.a": {"desired": None, "observed": ["value.a"]}}
