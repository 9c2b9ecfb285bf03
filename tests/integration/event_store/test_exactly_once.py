"""Log mode on the real stack, the slow one (the kafka and registry tiers): EVENT_STORE_EVENTS Avro events (1,000 by
default, so CI stays short; 10,000 pass too: EVENT_STORE_EVENTS=10000) produced by the team's SCRAM account reach
the store as exactly that many documents whose ids are their places in the log, even though the Connect worker is
killed (kill -9) mid-stream and started again: it delivers the records after its last committed offsets a second
time, and their ids make those writes replace their own documents."""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings

from onboarding.services.event_store import event_store_bind
from tests.fixtures.waiting import wait_for
from tests.integration.event_store.conftest import applied, avro_encoder, customer_records, produce

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[3]
EVENTS = int(os.environ.get("EVENT_STORE_EVENTS", "1000"))
HALF = EVENTS // 2


def connect_pid() -> int:
    """The worker's pid from its pid file, checked against its recorded start time (scripts/lib/proc.sh)."""
    answer = subprocess.run(["bash", "-c", '. scripts/lib/proc.sh && proc_pid connect'], cwd=REPO,
                            capture_output=True, text=True, env={**os.environ, "STACK_DIR": str(REPO / ".stack")})
    assert answer.returncode == 0 and answer.stdout.strip(), f"no live Connect worker: {answer.stderr}"
    return int(answer.stdout.strip())


def start_connect() -> None:
    subprocess.run([str(REPO / "scripts" / "stack"), "up", "connect"], cwd=REPO, check=True, timeout=400,
                   capture_output=True)


def committed(worker, name: str) -> int:
    """The records the sink had committed (sum of the next offsets to read over the partitions)."""
    return sum(int(o["offset"]["kafka_offset"]) for o in worker.offsets(name))


def test_avro_events_are_stored_once_each_across_a_killed_worker(
        alice, payments_topic, producer_config, registry, store, worker):
    topic = payments_topic(partitions=3)
    encode = avro_encoder(registry, f"{topic.name}-value")
    binding = applied(event_store_bind(actor=alice, topic=topic, mode="log", retention_days=30,
                                       indexed_fields=["customer"]))
    events = store[binding.collection_name]

    def records(start, stop):
        return [(f"c{i % 97}".encode(), encode({"seq": i, "customer": f"c{i % 97}", "amount": i / 100,
                                                "note": None if i % 2 else "even"})) for i in range(start, stop)]

    started = time.monotonic()
    placed = produce(producer_config, topic.name, records(0, HALF))
    # Killed once the sink is writing: a tenth of the events stored.
    wait_for(lambda: events.count_documents({}) >= EVENTS // 10, timeout=300, interval=0.2,
             message="the first tenth of the documents")
    before_kill = committed(worker, binding.connector_name)
    os.kill(connect_pid(), signal.SIGKILL)
    stored_at_kill = events.count_documents({})
    try:
        # The broker takes the second half while the worker is down.
        placed += produce(producer_config, topic.name, records(HALF, EVENTS))
    finally:
        start_connect()
    wait_for(lambda: events.count_documents({}) >= EVENTS, timeout=600, interval=1,
             message=f"{EVENTS} documents after the restart")
    elapsed = time.monotonic() - started

    docs = list(events.find({}, {"_id": 1, "value.seq": 1, "_partition": 1, "_offset": 1}))
    ids = [d["_id"] for d in docs]
    assert len(docs) == EVENTS == events.count_documents({})
    assert set(ids) == {f"{topic.name}#{p}#{o}" for p, o in placed}
    assert sorted(d["value"]["seq"] for d in docs) == list(range(EVENTS))
    assert all(d["_id"] == f"{topic.name}#{d['_partition']}#{d['_offset']}" for d in docs)
    # Replayed: what was stored but not yet committed when the worker died went through the sink twice.
    print(f"\n{EVENTS} events in {elapsed:.0f} s (a restart of the worker included); at the kill "
          f"{stored_at_kill} stored, {before_kill} committed, so {max(0, stored_at_kill - before_kill)} or more "
          "replayed")


def dead_letters(kafka_admin, topic: str) -> int:
    """Records in a dead-letter topic (none when the worker never made it)."""
    found = kafka_admin.list_topics(timeout=10).topics.get(topic)
    if found is None:
        return 0
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": uuid.uuid4().hex})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in found.partitions)
    finally:
        consumer.close()


def test_a_log_written_again_from_its_start_is_recognised_and_the_sink_goes_on(
        alice, payments_topic, producer_config, registry, store, worker, kafka_admin):
    # The sink inserts a log's documents; a record delivered again is refused by its id as a duplicate, which the
    # project's task counts as written. Replaying the whole topic (its offsets deleted) proves it: every write is a
    # duplicate, and the sink is still running and writing the events that come after.
    topic = payments_topic(partitions=2)
    encode = avro_encoder(registry, f"{topic.name}-value")
    binding = applied(event_store_bind(actor=alice, topic=topic, mode="log"))
    events = store[binding.collection_name]

    produce(producer_config, topic.name, customer_records(encode, 0, 200, 5))
    wait_for(lambda: committed(worker, binding.connector_name) == 200, timeout=300, interval=0.5,
             message="the 200 events stored and their offsets committed")
    worker.stop(binding.connector_name)
    wait_for(lambda: worker.status(binding.connector_name).connector_state == "STOPPED", timeout=60, interval=0.5,
             message="the sink stopped")
    worker.reset_offsets(binding.connector_name)
    worker.resume(binding.connector_name)
    wait_for(lambda: committed(worker, binding.connector_name) == 200, timeout=300, interval=0.5,
             message="the 200 events written a second time and committed")
    produce(producer_config, topic.name, customer_records(encode, 200, 210, 5))

    wait_for(lambda: events.count_documents({}) == 210, timeout=300, interval=0.5, message="the 10 events after")
    status = worker.status(binding.connector_name)
    assert status.connector_state == "RUNNING" and [task["state"] for task in status.tasks] == ["RUNNING"]
    assert sorted(d["value"]["seq"] for d in events.find({}, {"value.seq": 1})) == list(range(210))
    assert dead_letters(kafka_admin, binding.dead_letter_topic) == 0  # a duplicate is no dead letter
