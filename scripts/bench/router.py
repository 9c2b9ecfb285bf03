"""Benchmark: events per second through the router with 1, 100 and 1,000 rules, against a raw
confluent-kafka consume-transform-produce loop with the same transaction settings, in one run.

  scripts/dev bench router [--events 20000]

Each measurement drains the same source topic (JSON events) from the beginning with a new
consumer group and stops when the group's committed offsets reach the end. One rule selects everything
and the others (distinct filters, see bench_filters for the indexable/residual mix) select nothing, so every
configuration writes the same number of records. Prints events/s, the ratios to the raw loop, the cost per
event per rule over the raw loop, met / NOT met per goal (100 rules >= 0.7, 1,000 rules >= 0.5) and, for a
goal not met, the router thread's hot spots from a second, profiled run.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from django.conf import settings  # noqa: E402

from onboarding.routing.router import Router  # noqa: E402
from onboarding.routing.rules import Rule  # noqa: E402

BOOTSTRAP = {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}
PARTITIONS = 4
BATCH = 500
RULE_COUNTS = (1, 100, 1000)
GOALS = {100: 0.7, 1000: 0.5}  # router events/s over the raw loop's


def create(admin, names, compact=()):
    topics = [NewTopic(n, PARTITIONS if not n.endswith("rules") else 1, 1,
                       config={"cleanup.policy": "compact"} if n in compact else {}) for n in names]
    for future in admin.create_topics(topics).values():
        future.result(30)


def drained(consumer, source: str, end: dict[int, int]) -> bool:
    committed = consumer.committed([TopicPartition(source, p) for p in end], timeout=10)
    return all(tp.offset >= end[tp.partition] for tp in committed)


def raw_loop(source: str, destination: str, end: dict[int, int]) -> float:
    """What a careful hand-written router does: read_committed, one transaction per batch, offsets in it."""
    group = f"bench-raw-{uuid.uuid4().hex[:6]}"
    consumer = Consumer({**BOOTSTRAP, "group.id": group, "enable.auto.commit": False,
                         "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
    producer = Producer({**BOOTSTRAP, "transactional.id": f"bench-raw-{uuid.uuid4().hex}"})
    producer.init_transactions()
    consumer.subscribe([source])
    started, done = time.perf_counter(), dict.fromkeys(end, -1)
    while any(done[p] < end[p] - 1 for p in end):
        messages = [m for m in consumer.consume(num_messages=BATCH, timeout=1.0) if m.error() is None]
        if not messages:
            continue
        producer.begin_transaction()
        for message in messages:
            json.loads(message.value())  # the router decodes JSON to filter it; so does the baseline
            producer.produce(destination, key=message.key(), value=message.value(), headers=message.headers())
            done[message.partition()] = max(done[message.partition()], message.offset())
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                             consumer.consumer_group_metadata())
        producer.commit_transaction()
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed


RESIDUAL_EVERY = 50  # 1 rule in 50 has a filter the index cannot look up: 2% residual (--residual-every)


def bench_filters(count: int, residual_every: int = RESIDUAL_EVERY) -> list[str]:
    """The first rule selects every event; the others select none, so every run writes the same records.

    Distinct expressions, so no shortcut for identical filters can flatter the figure. The indexable mix, in
    equal shares: equality on a value field (two fields), equality on a header, a numeric threshold, and an
    equality behind ``&&``; every residual_every-th rule an ``||``, which the index leaves to per-event
    evaluation."""
    expressions = ["value.ward == 'ICU'"]
    for i in range(1, count):
        if i % residual_every == 0:
            expressions.append(f"value.n == `-{i}` || value.kind == 'k{i}'")
        else:
            expressions.append([f"value.ward == 'W{i}'", f"value.kind == 'k{i}'", f"headers.source == 's{i}'",
                                f"value.n < `-{i}`", f"value.ward == 'X{i}' && value.n > `5`"][i % 5])
    return expressions


def router_run(source: str, destination: str, rules: int, end: dict[int, int], admin, profile: bool = False,
               residual_every: int = RESIDUAL_EVERY):
    """Seconds to drain the source through a Router with `rules` rules (and, with profile, its hot spots)."""
    run = uuid.uuid4().hex[:6]
    rules_topic = f"bench.router-{run}-rules"
    create(admin, [rules_topic], compact={rules_topic})
    producer = Producer(BOOTSTRAP)
    for i, expression in enumerate(bench_filters(rules, residual_every)):
        producer.produce(rules_topic, key=f"bench-{run}-{i}".encode(), value=Rule(
            f"bench-{run}-{i}", source, destination, expression, f"{destination}.dlq").encode())
    producer.flush(60)
    group = f"bench-router-{run}"
    router = Router(group_id=group, rules_topic=rules_topic, batch_size=BATCH)
    stop, ready = threading.Event(), threading.Event()
    profiler = cProfile.Profile() if profile else None

    def route():
        if profiler is not None:
            profiler.enable()
        try:
            router.run(stop, ready)
        finally:
            if profiler is not None:
                profiler.disable()

    thread = threading.Thread(target=route, daemon=True)
    thread.start()
    ready.wait(60)
    started = time.perf_counter()
    watcher = Consumer({**BOOTSTRAP, "group.id": group})  # one client for all checks, not one per check
    try:
        while not drained(watcher, source, end):
            time.sleep(0.05)
    finally:
        watcher.close()
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join(30)
    admin.delete_topics([rules_topic])
    return elapsed, profiler


def hot_spots(profiler, limit: int = 8) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(limit)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "tottime" in line), 0)
    return "\n".join("    " + line for line in lines[start:start + limit + 1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--residual-every", type=int, default=RESIDUAL_EVERY,
                        help="every N-th rule gets a filter the index cannot look up (default 50: 2%%)")
    args = parser.parse_args()
    count, residual_every = args.events, args.residual_every
    run = uuid.uuid4().hex[:6]
    admin = AdminClient(BOOTSTRAP)
    source, destination = f"bench.router-{run}-src", f"bench.router-{run}-dst"
    create(admin, [source, destination, f"{destination}.dlq"])
    try:
        producer = Producer({**BOOTSTRAP, "linger.ms": 20})
        for i in range(count):
            producer.produce(source, key=str(i).encode(), value=json.dumps({"n": i, "ward": "ICU"}).encode(),
                             headers=[("source", b"lab")])
            if i % 10000 == 0:
                producer.poll(0)
        producer.flush(60)
        probe = Consumer({**BOOTSTRAP, "group.id": "bench-probe"})
        end = {p: probe.get_watermark_offsets(TopicPartition(source, p), timeout=10)[1] for p in range(PARTITIONS)}
        probe.close()

        raw = raw_loop(source, destination, end)
        runs = {n: router_run(source, destination, n, end, admin, residual_every=residual_every)[0]
                for n in RULE_COUNTS}
        print(f"events: {count} ({PARTITIONS} partitions, batches of {BATCH}); filters: "
              f"{100 - 100 / residual_every:g}% indexable, {100 / residual_every:g}% residual "
              f"(--residual-every {residual_every})")
        print(f"raw transactional loop:  {count / raw:9.0f} events/s   {1e6 * raw / count:7.1f} us/event")
        missed = []
        for n, seconds in runs.items():
            ratio = raw / seconds
            per_rule = 1e6 * (seconds - raw) / count / n
            goal = GOALS.get(n)
            verdict = "" if goal is None else f"goal >= {goal}: {'met' if ratio >= goal else 'NOT met'}"
            print(f"router, {n:5d} rule{'s' if n > 1 else ' '}: {count / seconds:9.0f} events/s   "
                  f"{1e6 * seconds / count:7.1f} us/event   ratio {ratio:5.2f}   "
                  f"{per_rule:6.2f} us/event/rule over raw   {verdict}")
            if goal is not None and ratio < goal:
                missed.append(n)
        for n in missed:
            _seconds, profiler = router_run(source, destination, n, end, admin, profile=True,
                                            residual_every=residual_every)
            print(f"where the time goes with {n} rules (router thread, cProfile, by own time):")
            print(hot_spots(profiler))
    finally:
        admin.delete_topics([source, destination, f"{destination}.dlq"])


if __name__ == "__main__":
    main()
