"""Benchmark: events per second through the router with 1 and with 100 rules, against a raw
confluent-kafka consume-transform-produce loop with the same transaction settings, in one run.

  scripts/dev bench router [--events 20000]

Each measurement drains the same source topic (JSON events) from the beginning with a new
consumer group and stops when the group's committed offsets reach the end. With 100 rules, 99 distinct
filters select nothing and one selects everything, so every configuration writes the same
number of records. Prints events/s and the ratios (goal: router >= 0.7 of the raw loop).
"""

import argparse
import json
import os
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
from onboarding.routing.rules import Rule, rule_upsert  # noqa: E402

BOOTSTRAP = {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}
PARTITIONS = 4
BATCH = 500


def create(admin, names, compact=()):
    topics = [NewTopic(n, PARTITIONS if not n.endswith("rules") else 1, 1,
                       config={"cleanup.policy": "compact"} if n in compact else {}) for n in names]
    for future in admin.create_topics(topics).values():
        future.result(30)


def drained(group: str, source: str, end: dict[int, int]) -> bool:
    consumer = Consumer({**BOOTSTRAP, "group.id": group})
    try:
        committed = consumer.committed([TopicPartition(source, p) for p in end], timeout=10)
        return all(tp.offset >= end[tp.partition] for tp in committed)
    finally:
        consumer.close()


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


def router_run(source: str, destination: str, rules: int, end: dict[int, int], admin) -> float:
    run = uuid.uuid4().hex[:6]
    rules_topic = f"bench.router-{run}-rules"
    create(admin, [rules_topic], compact={rules_topic})
    producer = Producer(BOOTSTRAP)
    for i in range(rules):
        # Distinct expressions, so no shortcut for identical filters can flatter the figure.
        expression = "value.n >= `0`" if i == 0 else f"value.n < `-{i}`"
        rule_upsert(producer, rules_topic, Rule(f"bench-{run}-{i}", source, destination, expression,
                                                f"{destination}.dlq"))
    group = f"bench-router-{run}"
    router = Router(group_id=group, rules_topic=rules_topic, batch_size=BATCH)
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=router.run, args=(stop, ready), daemon=True)
    thread.start()
    ready.wait(60)
    started = time.perf_counter()
    while not drained(group, source, end):
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join(30)
    admin.delete_topics([rules_topic])
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    count = parser.parse_args().events
    run = uuid.uuid4().hex[:6]
    admin = AdminClient(BOOTSTRAP)
    source, destination = f"bench.router-{run}-src", f"bench.router-{run}-dst"
    create(admin, [source, destination, f"{destination}.dlq"])
    try:
        producer = Producer({**BOOTSTRAP, "linger.ms": 20})
        for i in range(count):
            producer.produce(source, key=str(i).encode(), value=json.dumps({"n": i, "ward": "ICU"}).encode())
            if i % 10000 == 0:
                producer.poll(0)
        producer.flush(60)
        probe = Consumer({**BOOTSTRAP, "group.id": "bench-probe"})
        end = {p: probe.get_watermark_offsets(TopicPartition(source, p), timeout=10)[1] for p in range(PARTITIONS)}
        probe.close()

        raw = raw_loop(source, destination, end)
        one = router_run(source, destination, 1, end, admin)
        hundred = router_run(source, destination, 100, end, admin)
        print(f"events: {count} ({PARTITIONS} partitions, batches of {BATCH})")
        print(f"raw transactional loop:  {count / raw:9.0f} events/s")
        print(f"router, 1 rule:          {count / one:9.0f} events/s   ratio {raw / one:5.2f}  (goal >= 0.7)")
        print(f"router, 100 rules:       {count / hundred:9.0f} events/s   ratio {raw / hundred:5.2f}  (goal >= 0.7)")
    finally:
        admin.delete_topics([source, destination, f"{destination}.dlq"])


if __name__ == "__main__":
    main()
