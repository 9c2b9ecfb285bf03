"""The event store is real: FerretDB (MongoDB API) on the stack's Postgres, driven with pymongo.

FerretDB keeps each collection in a Postgres table; the stack's setup (scripts/stack.d/eventstore.sql) gives every
such table a GIN index on the document id, without which each upsert scans the whole collection.
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
