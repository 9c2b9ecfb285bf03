"""Benchmark: event-store queries (p95 with and without the index) and the raw pymongo insert_many baseline.

  scripts/dev bench event_store [--documents 1000000] [--batch 1000] [--queries 10] [--fill-budget 600]
                                [--max-time 600]

Fills one collection in the sink's layout (``_id`` topic#partition#offset, ``_ts``, ``_partition``, ``_offset``,
``_key``, ``value``) with pymongo insert_many in batches: that rate (documents/s) is the baseline the bindings'
sink throughput is compared with. The first batches are a sample: when the whole fill would take longer than
--fill-budget seconds, the run says so and fills only what fits (pass --documents to choose). Then it times the
portal's own queries (the query language, the same find the service sends, through pymongo) without any index
but _id, creates the index on the queried field and the time, and times them again:

  eq+range   value.ward = one of 100 wards, one hour of events, newest first, 50 per page
  sort       the first page of 50 sorted by value.ward (keyset order)
  next page  the page after a cursor of eq+range
  key+range  key = one patient, the same hour and order: an equality on a top-level field (_key), which FerretDB
             1.x hands to Postgres when it is a field of the filter document itself (not under $and)
  eq+range@  eq+range as the query service sends it for an indexed field: on the top-level copy the sink writes
             (_i:value:ward, which every document here also carries), which FerretDB pushes down to its index
  sort@      sort on the copy, as the service sends a sort on an indexed field
  key+range& key+range with its conditions under $and, as the query service sent every query until it merged them
  eq+range@h eq+range@ read hour by hour, as the query service reads a bounded range once every document has its
             hour (_h): one find per hour, each an equality on _h beside the copy's, newest hour first, until the
             page is full

The indexes of the "indexed" state are those a binding's reconciler makes (_ts, _key, _h, the copy) and, for the
nested path, a compound one. On FerretDB the stack gives each index's leading field a GIN companion
(scripts/stack.d/eventstore.sql), which is what serves its equalities.

Prints p50/p95 per query, the index's speed-up, each query's documents/s over the collection against the
insert baseline of the same run, and the machine's load (a shared machine's runs differ widely).

  scripts/dev bench event_store --sink [--events 2000] [--latency-events 200] [--latency-rate 20]

measures the write side instead, through the managed sink as a team uses it (scripts/bench/event_store_sink.py):
documents/s from produce to queryable against pymongo insert_many of the same documents into the same store,
and produce->queryable latency p50/p99. It needs the portal's database and workers' stack (scripts/dev up).
"""

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.errors import ExecutionTimeout

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onboarding.event_store_query.documents import SINK, hour_of  # noqa: E402
from onboarding.event_store_query.find import find_of, hours_of, in_hour  # noqa: E402
from onboarding.event_store_query.language import parse_query  # noqa: E402

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WARDS = 100
SAMPLE_BATCHES = 10


def documents(first: int, count: int, topic: str):
    """Events a second apart over 6 partitions, ~300 bytes each, as the sink writes them."""
    for n in range(first, first + count):
        partition = n % 6
        yield {"_id": f"{topic}#{partition}#{n // 6}", "_ts": START + dt.timedelta(seconds=n),
               "_partition": partition, "_offset": n // 6, "_key": f"patient-{n % 50_000}",
               "value": {"ward": f"W{n % WARDS:02d}", "n": n, "status": "admitted" if n % 3 else "discharged",
                         "patient": {"name": f"Patient {n}", "ssn": f"{n:09d}"}, "note": "x" * 160},
               "_i:value:ward": f"W{n % WARDS:02d}", "_h": hour_of(START + dt.timedelta(seconds=n))}


def fill(collection, total: int, batch: int, budget: float, topic: str) -> tuple[int, float]:
    """(documents written, documents/s); stops early when the sample says the whole fill exceeds the budget."""
    written, started = 0, time.perf_counter()
    while written < total:
        count = min(batch, total - written)
        collection.insert_many(list(documents(written, count, topic)), ordered=False)
        written += count
        if written == batch * SAMPLE_BATCHES and written < total:
            rate = written / (time.perf_counter() - started)
            projected = total / rate
            print(f"sample: {written} documents at {rate:,.0f}/s; {total:,} would take {projected:,.0f} s")
            if projected > budget:
                total = max(written, int(rate * budget) // batch * batch)
                print(f"scaled down to {total:,} documents (--fill-budget {budget:.0f} s)")
    return written, written / (time.perf_counter() - started)


def timed(collection, plan, runs: int, max_time: float) -> list[float]:
    """Seconds per run of a plan (a find, and the hours it is read by or None); a run the store stops at
    ``max_time`` counts as infinite and ends the series, since the next runs would take as long (a full scan at
    1 million documents takes minutes on FerretDB)."""
    find, hours = plan
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            if hours is None:
                list(collection.find(find.filter, find.projection, sort=find.sort, limit=find.limit,
                                     max_time_ms=int(max_time * 1000)))
            else:
                found = 0
                for hour in hours:  # as event_store_query.store.run_by_hour reads them
                    one = in_hour(find, COPIED, hour, limit=find.limit - found)
                    found += len(list(collection.find(one.filter, one.projection, sort=one.sort, limit=one.limit,
                                                      max_time_ms=int(max_time * 1000))))
                    if found >= find.limit:
                        break
        except ExecutionTimeout:
            return [*seconds, float("inf")]
        seconds.append(time.perf_counter() - started)
    return seconds


def shown(seconds: float, max_time: float) -> str:
    return f"> {max_time * 1000:,.0f}" if seconds == float("inf") else f"{seconds * 1000:,.1f}"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def queries(total: int) -> dict:
    middle = START + dt.timedelta(seconds=total // 2)
    eq_range = parse_query({"filter": {"value.ward": "W42"}, "from": middle.isoformat(),
                            "to": (middle + dt.timedelta(hours=1)).isoformat(), "sort": "-timestamp", "limit": 50})
    by_ward = parse_query({"sort": "value.ward", "limit": 50}, sortable=["value.ward"])
    by_key = parse_query({"filter": {"key": f"patient-{(total // 2 + 600) % 50_000}"}, "from": middle.isoformat(),
                          "to": (middle + dt.timedelta(hours=1)).isoformat(), "sort": "-timestamp", "limit": 50})
    return {"eq+range": (eq_range, None), "sort": (by_ward, None),
            "next page": (eq_range, (middle + dt.timedelta(minutes=30), "t#0#0")), "key+range": (by_key, None)}


# The shape the query service uses for a binding indexing ward: value.ward is read from its top-level copy.
COPIED = SINK.with_copies([("value.ward", "_i:value:ward")])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="documents per insert_many")
    parser.add_argument("--queries", type=int, default=10, help="timed runs of each query, per index state")
    parser.add_argument("--fill-budget", type=float, default=600, help="seconds the fill may take at most")
    parser.add_argument("--max-time", type=float, default=600,
                        help="seconds a query may run (maxTimeMS); a stopped one is shown as more than that")
    parser.add_argument("--keep", action="store_true", help="keep the collection (default: dropped at the end)")
    parser.add_argument("--sink", action="store_true", help="measure the managed sink instead of the queries")
    parser.add_argument("--events", type=int, default=2000, help="--sink: events produced at once")
    parser.add_argument("--latency-events", type=int, default=200, help="--sink: paced events for the latency")
    parser.add_argument("--latency-rate", type=float, default=20, help="--sink: their rate, events/s")
    args = parser.parse_args()
    if args.sink:
        import event_store_sink  # scripts/bench, this script's directory; sets Django up

        event_store_sink.measure(args.events, args.latency_events, args.latency_rate)
        return

    client = MongoClient(os.environ.get("EVENT_STORE_URI", "mongodb://127.0.0.1:27018/"), socketTimeoutMS=900_000)
    database = client["bench_event_store"]
    name = f"q-{uuid.uuid4().hex[:8]}"
    collection = database[name]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    try:
        total, insert_rate = fill(collection, args.documents, args.batch, args.fill_budget, name)
        print(f"baseline: insert_many of {total:,} documents, batches of {args.batch}: {insert_rate:,.0f} documents/s")
        plans = {label: (find_of(query, SINK, after=after), None) for label, (query, after) in queries(total).items()}
        copied = queries(total)
        plans["eq+range@"] = (find_of(copied["eq+range"][0], COPIED), None)
        plans["sort@"] = (find_of(copied["sort"][0], COPIED), None)
        key_range = plans["key+range"][0]
        plans["key+range&"] = (dataclasses.replace(key_range, filter={"$and": [
            {name: condition} for name, condition in key_range.filter.items()]}), None)
        plans["eq+range@h"] = (plans["eq+range@"][0], hours_of(copied["eq+range"][0]))
        results = {}
        for state in ("no index", "indexed"):
            if state == "indexed":
                started = time.perf_counter()
                collection.create_index([("value.ward", ASCENDING), ("_ts", DESCENDING)], name="by_ward_time")
                collection.create_index([("value.ward", ASCENDING), ("_id", ASCENDING)], name="by_ward")
                collection.create_index([("_ts", ASCENDING)], name="by_time")
                collection.create_index([("_key", ASCENDING)], name="_key")
                collection.create_index([("_h", ASCENDING)], name="_h")
                collection.create_index([("_i:value:ward", ASCENDING)], name="_i:value:ward")
                print(f"indexes created in {time.perf_counter() - started:.1f} s")
            for label, plan in plans.items():
                warm = timed(collection, plan, 1, args.max_time)  # warm-up, untimed
                results[(state, label)] = warm if warm[-1] == float("inf") else timed(
                    collection, plan, args.queries, args.max_time)
        print(f"\n{total:,} documents, {args.queries} runs per query; load average {os.getloadavg()[0]:.2f}")
        print(f"{'query':<11} {'state':<9} {'p50 ms':>9} {'p95 ms':>9} {'docs/s scanned':>15} {'vs insert':>10}")
        for (state, label), seconds in results.items():
            scanned = total / p95(seconds)
            print(f"{label:<11} {state:<9} {shown(statistics.median(seconds), args.max_time):>9} "
                  f"{shown(p95(seconds), args.max_time):>9} {scanned:>15,.0f} {scanned / insert_rate:>9.2f}x")
        for label in plans:
            without, with_index = p95(results[("no index", label)]), p95(results[("indexed", label)])
            bound = "at least " if without == float("inf") and with_index != float("inf") else ""
            speedup = min(without, args.max_time) / with_index if with_index != float("inf") else float("nan")
            print(f"index speed-up of {label} (p95 without / with): {bound}{speedup:.2f}x")
    finally:
        if not args.keep:
            collection.drop()
        client.close()


if __name__ == "__main__":
    main()
