"""Benchmark: upserts by _id into the event store (FerretDB on Postgres), with and without the GIN index on the
document id that the stack's setup gives every collection (scripts/stack.d/eventstore.sql).

  scripts/dev bench eventstore_upsert [--documents 10000] [--upserts 200] [--batch 40] [--batches 5]

Kafka Connect's MongoDB sink writes every record as a replaceOne with upsert by _id, ordered bulk writes of up to
max.batch.size; FerretDB 1.x looks a document up by _id with `_jsonb->'_id' @> $1`, which its own btree index on
_id cannot serve. Each run fills two collections of the same size, drops the GIN index of one (as the database's
owner, the stack's eventstore role), then times single upserts and bulk upserts on existing ids in both.
Prints upserts/s and the ratio.

Bulks stay under 50 upserts: FerretDB 1.24 holds one of its 50 pooled Postgres connections per statement of an
update command until the command ends, so a bulk of 50 or more upserts waits for a connection forever (and the
server must be restarted). Connectors writing to it need max.batch.size <= 40 (docs/operations.md).
"""

import argparse
import os
import random
import time
import uuid
from urllib.parse import urlsplit

import psycopg
from pymongo import MongoClient, ReplaceOne


def owner_connection():
    """The eventstore database as its owner (scripts/stack.d/eventstore.sh), on the stack's Postgres."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return psycopg.connect(host=url.hostname, port=url.port, user="eventstore", password="eventstore",
                           dbname="eventstore", autocommit=True)


def fill(collection, documents):
    for start in range(0, documents, 1000):
        collection.insert_many([{"_id": f"bench#0#{offset}", "value": {"n": offset, "pad": "x" * 200}}
                                for offset in range(start, min(start + 1000, documents))])


def drop_gin_index(database_name, collection_name):
    with owner_connection() as connection:
        names = [row[0] for row in connection.execute(
            "SELECT format('%%I.%%I', schemaname, indexname) FROM pg_indexes"
            " WHERE schemaname = %s AND tablename LIKE %s AND indexdef LIKE '%%USING gin%%'",
            (database_name, f"{collection_name}\\_%"))]
        assert len(names) == 1, f"expected one GIN index on {database_name}.{collection_name}, found {names}"
        connection.execute(f"DROP INDEX {names[0]}")


def single_upserts(collection, documents, upserts):
    ids = random.Random(1).sample(range(documents), upserts)
    start = time.perf_counter()
    for offset in ids:
        collection.replace_one({"_id": f"bench#0#{offset}"}, {"value": {"n": -offset}}, upsert=True)
    return upserts / (time.perf_counter() - start)


def bulk_upserts(collection, documents, batch, batches):
    ids = random.Random(2).sample(range(documents), batch * batches)
    # Untimed: the first bulk makes FerretDB open a Postgres connection per statement (SCRAM logins); later ones
    # reuse them.
    collection.bulk_write([ReplaceOne({"_id": f"bench#0#{offset}"}, {"value": {"n": offset}}, upsert=True)
                           for offset in ids[:batch]], ordered=True)
    start = time.perf_counter()
    for first in range(0, len(ids), batch):
        collection.bulk_write([ReplaceOne({"_id": f"bench#0#{offset}"}, {"value": {"n": offset}}, upsert=True)
                               for offset in ids[first:first + batch]], ordered=True)
    return len(ids) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000, help="documents in each collection")
    parser.add_argument("--upserts", type=int, default=200, help="single upserts timed per collection")
    parser.add_argument("--batch", type=int, default=40, help="upserts per bulk write (FerretDB: at most 49)")
    parser.add_argument("--batches", type=int, default=5, help="bulk writes timed per collection")
    args = parser.parse_args()
    if args.batch >= 50:
        parser.error("--batch must stay under 50: FerretDB 1.24 deadlocks on bulks of 50 upserts or more")

    # A socket timeout, so that a server stuck as described above fails the run instead of hanging it.
    client = MongoClient(os.environ.get("EVENT_STORE_URI", "mongodb://127.0.0.1:27018/"), socketTimeoutMS=120_000)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    database = client[name]
    try:
        indexed, scanned = database["indexed"], database["scanned"]
        for collection in (indexed, scanned):
            fill(collection, args.documents)
        drop_gin_index(name, "scanned")
        results = {}
        for label, collection in (("with GIN index", indexed), ("without", scanned)):
            results[label] = (single_upserts(collection, args.documents, args.upserts),
                              bulk_upserts(collection, args.documents, args.batch, args.batches))
        print(f"{args.documents} documents per collection; {args.upserts} single upserts,"
              f" {args.batches} bulks of {args.batch}")
        for label, (single, bulk) in results.items():
            print(f"  {label:15} single {single:8.0f} upserts/s   bulk {bulk:8.0f} upserts/s")
        (gin_single, gin_bulk), (scan_single, scan_bulk) = results.values()
        print(f"  ratio           single {gin_single / scan_single:8.1f}x          bulk {gin_bulk / scan_bulk:8.1f}x")
    finally:
        client.drop_database(name)
        client.close()


if __name__ == "__main__":
    main()
