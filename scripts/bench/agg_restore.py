"""Part 2 of the aggregation benchmark: restore after kill -9 with many keys in one open window."""

import datetime
import json
import re
import time
import uuid

from agg_candidates import Engine
from agg_common import BOOTSTRAP, Run, end_offsets, log, produce_backlog, wait
from confluent_kafka import Consumer, Producer, TopicPartition


def restore(run: Run, options, rows: list, notes: list):
    source, output = run.topic("restore-src"), run.topic("restore-out")
    definitions, status = run.topic("restore-definitions", 1, True), run.topic("restore-status", 1, True)
    schema_id = run.register_output_schema(output)
    log(f"producing {options.state_entries} distinct keys to {source}")
    produce_backlog(source, options.state_entries, lambda i: f"s{i}")
    engine = Engine(run, "restore", definitions, status).start()
    # A one-hour window: every key's entry stays in the open window.
    definition = engine.define(run, "restore", source, output, 3_600_000, schema_id)
    timeout = max(300.0, options.state_entries / 100)
    wait(lambda: engine.metric("aggregation_windows_emitted_total", definition) >= options.state_entries, timeout,
         "the engine to hold every key", interval=1)
    changelog = sum(sum(end_offsets(t).values()) for t in run.admin.list_topics(timeout=10).topics
                    if t.startswith(f"{run.prefix}.app.restore") and t.endswith("-changelog"))
    consumer = Consumer({**BOOTSTRAP, "group.id": f"bench-count-{uuid.uuid4().hex[:6]}",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    consumer.assign([TopicPartition(output, p, o) for p, o in end_offsets(output).items()])
    consumer.consume(num_messages=1, timeout=0.5)
    producer = Producer({**BOOTSTRAP, "linger.ms": 0})

    group = f"{run.prefix}.app.restore.v1"
    killed_members = group_members(run, group)
    killed, killed_wall = time.perf_counter(), time.time()
    engine.kill()
    engine.start()
    answered = time.perf_counter()
    running = emitted = evicted = None
    probe = 0
    deadline = time.monotonic() + timeout
    while emitted is None and time.monotonic() < deadline:
        if evicted is None and not killed_members & group_members(run, group):
            evicted = time.perf_counter()
        if running is None and engine.states().get(definition) == "RUNNING":
            running = time.perf_counter()
        probe += 1
        producer.produce(source, key=f"probe{probe}".encode(),
                         value=json.dumps({"k": f"probe{probe}", "n": probe, "amount": 1}).encode())
        producer.poll(0)
        for message in consumer.consume(num_messages=100, timeout=0.1):
            if message.error() is None and message.key().startswith(b"probe"):
                emitted = time.perf_counter()
    consumer.close()
    producer.flush(10)
    engine.stop()
    if emitted is None:
        raise RuntimeError("the engine did not emit after its restart")
    if running is None:
        running = emitted
    restored = re.findall(r"^\[([\d-]+ [\d:]+),(\d+)\] INFO .*Finished restoring changelog .* total number of (\d+) "
                          r"records", engine.log.read_text(), re.M)
    after_kill = [(datetime.datetime.strptime(day, "%Y-%m-%d %H:%M:%S").timestamp() + int(millis) / 1000, int(n))
                  for day, millis, n in restored]
    after_kill = [(at, n) for at, n in after_kill if at >= killed_wall]
    restored_note = ""
    if after_kill:
        restored_note = (f", Kafka Streams restored {sum(n for _, n in after_kill)} changelog records of"
                         f" {len(after_kill)} partitions, done {max(at for at, _ in after_kill) - killed_wall:.1f} s")
    rows.append((f"2. restore after kill -9, {options.state_entries} entries", None, None, None, None))
    notes.append(f"restore: {options.state_entries} keys in one open window ({changelog} changelog records); after"
                 f" kill -9 the HTTP port answered in {answered - killed:.1f} s, RUNNING in {running - killed:.1f} s,"
                 f" a new event's result visible in {emitted - killed:.1f} s; the killed member was gone from the group"
                 f" after {(evicted or emitted) - killed:.1f} s (replaced by the restarted static member, or its"
                 f" session timed out)"
                 + restored_note)


def group_members(run: Run, group: str) -> set:
    try:
        described = run.admin.describe_consumer_groups([group])[group].result(10)
    except Exception:  # noqa: BLE001 - between generations; asked again on the next round
        return set()
    return {member.member_id for member in described.members}

