"""The event store is real: FerretDB (MongoDB API) on the stack's Postgres, driven with pymongo.

FerretDB keeps each collection in a Postgres table; the stack's setup (scripts/stack.d/eventstore.sql) gives every
such table a GIN index on the document id, without which each upsert scans the whole collection, and every index's
leading top-level field a GIN companion, without which an equality on an indexed field scans it too.
"""

import psycopg
import pytest
from pymongo import ASCENDING, MongoClient
from pymongo.errors import DuplicateKeyError

from tests.fixtures.eventstore import event_store_postgres, event_store_uri

pytestmark = pytest.mark.kafka


@pytest.fixture
def store():
    client = MongoClient(event_store_uri(), serverSelectionTimeoutMS=10_000)
    yield client
    client.close()


@pytest.fixture
def database(store, unique):
    # A database of its own: FerretDB makes it a Postgres schema of that name.
    name = f"stack_probe_{unique}"
    yield store[name]
    store.drop_database(name)


def test_it_inserts_reads_and_indexes_a_document(database):
    events = database["admissions"]
    events.insert_one({"_id": "admissions#0#0", "value": {"patient_id": "p-1", "ward": "A"}, "_ts": 1700000000000})

    assert events.find_one({"value.patient_id": "p-1"}) == {
        "_id": "admissions#0#0", "value": {"patient_id": "p-1", "ward": "A"}, "_ts": 1700000000000}
    events.create_index([("value.ward", ASCENDING)], name="by_ward")
    assert {index["name"] for index in events.list_indexes()} == {"_id_", "by_ward"}
    # The _id index is unique, which is what makes replaying a topic into the store idempotent.
    with pytest.raises(DuplicateKeyError):
        events.insert_one({"_id": "admissions#0#0", "value": {}})


def test_an_upsert_by_id_replaces_the_document_and_inserts_a_missing_one(database):
    events = database["admissions"]
    events.insert_many([{"_id": f"admissions#0#{offset}", "value": {"n": offset}} for offset in range(50)])

    events.replace_one({"_id": "admissions#0#7"}, {"value": {"n": 700}}, upsert=True)
    events.replace_one({"_id": "admissions#0#50"}, {"value": {"n": 50}}, upsert=True)

    assert events.find_one({"_id": "admissions#0#7"})["value"] == {"n": 700}
    assert events.count_documents({}) == 51


def _tables_and_id_gin_indexes(schema):
    with psycopg.connect(**event_store_postgres()) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = '_jsonb'"
            " WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname NOT LIKE '\\_ferretdb\\_%%'", (schema,))}
        indexed = {row[0] for row in connection.execute(
            "SELECT tablename FROM pg_indexes WHERE schemaname = %s AND indexdef LIKE '%%USING gin%%'"
            " AND indexdef LIKE %s", (schema, "%((_jsonb -> '_id'::text)) jsonb_path_ops)%"))}
    return tables, indexed


def test_every_collection_gets_the_gin_index_on_the_document_id(database):
    database["admissions"].insert_one({"_id": "a", "value": 1})
    database.create_collection("discharges")

    tables, indexed = _tables_and_id_gin_indexes(database.name)

    assert len(tables) == 2
    assert indexed == tables


def _companions(schema) -> dict[str, str]:
    """Field -> the GIN index serving FerretDB's equality on it, for the collection tables of ``schema``."""
    with psycopg.connect(**event_store_postgres()) as connection:
        return dict(connection.execute(
            "SELECT substr(obj_description(c.oid, 'pg_class'), 25), i.indexdef FROM pg_indexes i"
            " JOIN pg_class c ON c.relname = i.indexname JOIN pg_namespace n ON n.oid = c.relnamespace"
            " AND n.nspname = i.schemaname WHERE i.schemaname = %s"
            " AND obj_description(c.oid, 'pg_class') LIKE 'eventstore companion of %%'", (schema,)).fetchall())


def test_an_indexed_fields_equality_is_served_by_a_gin_companion_that_goes_with_its_index(database):
    events = database["admissions"]
    events.insert_many([{"_id": f"a#0#{n}", "_key": f"p-{n % 5}", "_i:value:ward": f"W{n % 3}", "_ts": n}
                        for n in range(30)])

    events.create_index([("_key", ASCENDING)], name="_key")
    events.create_index([("_i:value:ward", ASCENDING), ("_ts", ASCENDING)], name="ward_time")
    events.create_index([("value.nested", ASCENDING)], name="nested")  # not top level: FerretDB never pushes it
    events.create_index([("_ts", ASCENDING)], name="_ts")  # only ever a range or a sort, never pushed down either

    companions = _companions(database.name)
    assert set(companions) == {"_key", "_i:value:ward"}  # leading fields only; never _id (it has its own) nor _ts
    # The expression of FerretDB's pushed-down equality (`_jsonb->'_key' @> '"p-1"'`), which a GIN index serves.
    assert "USING gin (((_jsonb -> '_key'::text)) jsonb_path_ops)" in companions["_key"]
    assert "USING gin (((_jsonb -> '_i:value:ward'::text)) jsonb_path_ops)" in companions["_i:value:ward"]
    assert [d["_id"] for d in events.find({"_key": "p-1", "_i:value:ward": "W1"}, sort=[("_ts", 1)])] == [
        "a#0#1", "a#0#16"]

    events.drop_index("_key")

    assert set(_companions(database.name)) == {"_i:value:ward"}


def test_the_store_plans_every_query_for_its_field_names():
    # FerretDB sends a field's name as a parameter: a generic plan could use no expression index at all.
    with psycopg.connect(**event_store_postgres()) as connection:
        assert connection.execute("SHOW plan_cache_mode").fetchone() == ("force_custom_plan",)
