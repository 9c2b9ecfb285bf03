"""Shared parts of the aggregation benchmark (scripts/bench/aggregations.py): Django and Kafka settings, the
run's resources (topics, subjects, groups, temporary files, all removed at the end), waiting, process figures."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from django.conf import settings  # noqa: E402

BOOTSTRAP = {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}
PARTITIONS = 4
BATCH = 500
LAUNCHER = REPO / "scripts" / "aggregator"
JAR = REPO / "aggregator" / "target" / "aggregator.jar"
TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise RuntimeError(f"gave up waiting for {what} after {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


# A JVM's native thread names are the first 15 characters of its Java thread names.
THREAD_KINDS = (("C1 CompilerThre", "JIT"), ("C2 CompilerThre", "JIT"), ("GC Thread", "GC"), ("G1 ", "GC"))


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a JVM's threads by kind: JIT compilers, garbage collection, and the rest (the stream
    thread, the Kafka clients' threads, the engine's own), so start-up compilation is told apart from work."""
    kinds: dict[str, float] = {"JIT": 0.0, "GC": 0.0, "work": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        kind = next((k for prefix, k in THREAD_KINDS if name.startswith(prefix)), "work")
        kinds[kind] += (int(fields[11]) + int(fields[12])) / TICKS
    return kinds


def rss_mib(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024


def heap_used_mib(pid: int) -> float:
    # A full GC first, so the figure is what the definitions keep, not garbage not yet collected.
    subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, timeout=60, check=True)
    out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return int(re.search(r"used (\d+)K", out).group(1)) / 1024


# Where the engine's stream thread spends its time: Java Flight Recorder samples taken while the backlog drains,

def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def pace(producer: Producer, topic: str, rate: float, seconds: float, key_of) -> int:
    """Produces at ``rate`` events/s for ``seconds``; the records' CreateTime is the produce call's time."""
    total = int(rate * seconds)
    started = time.perf_counter()
    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        key = key_of(i)
        producer.produce(topic, key=key.encode(), value=json.dumps({"k": key, "n": i, "amount": 3}).encode())
        producer.poll(0)
    producer.flush(60)
    return total


# --- the run's resources -------------------------------------------------------------------------------------

class Run:
    def __init__(self):
        self.id = uuid.uuid4().hex[:6]
        self.prefix = f"bench.agg-{self.id}"
        self.admin = AdminClient(BOOTSTRAP)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-agg-{self.id}-"))
        self.processes: list[subprocess.Popen] = []
        self.subjects: list[str] = []
        self.groups: list[str] = []

    def topic(self, stem: str, partitions: int = PARTITIONS, compact: bool = False) -> str:
        name = f"{self.prefix}.{stem}"
        config = {"cleanup.policy": "compact"} if compact else {}
        self.admin.create_topics([NewTopic(name, partitions, 1, config=config)])[name].result(30)
        wait(lambda: name in self.admin.list_topics(timeout=10).topics, 30, f"{name} to exist")
        return name

    def register_output_schema(self, output_topic: str) -> int:
        # Apicurio recognises a JSON Schema by its $schema.
        subject = f"{output_topic}-value"
        schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                  "properties": {"group": {"type": "string"}}}
        response = requests.post(f"{settings.SCHEMA_REGISTRY_URL}/subjects/{subject}/versions",
                                 json={"schema": json.dumps(schema), "schemaType": "JSON"},
                                 headers={"Content-Type": "application/vnd.schemaregistry.v1+json"}, timeout=10)
        response.raise_for_status()
        self.subjects.append(subject)
        return response.json()["id"]

    def stop(self, process: subprocess.Popen):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)

    def cleanup(self):
        for process in self.processes:
            self.stop(process)
        for subject in self.subjects:
            for suffix in ("", "?permanent=true"):  # the registry deletes permanently only after a soft delete
                requests.delete(f"{settings.SCHEMA_REGISTRY_URL}/subjects/{subject}{suffix}", timeout=10)
        names = [t for t in self.admin.list_topics(timeout=10).topics if t.startswith(self.prefix)]
        if names:
            for future in self.admin.delete_topics(names, operation_timeout=30).values():
                try:
                    future.result(60)
                except Exception:  # noqa: BLE001 - the engine deleted it meanwhile
                    pass
        # Kafka Streams does not leave its group on close: the group empties when the session times out (45 s).
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            groups = [g.group_id for g in self.admin.list_consumer_groups().result(30).valid
                      if g.group_id.startswith((self.prefix, f"bench-raw-{self.id}"))]
            failed = []
            for group, future in (self.admin.delete_consumer_groups(groups).items() if groups else ()):
                try:
                    future.result(30)
                except Exception:  # noqa: BLE001 - not empty yet
                    failed.append(group)
            if not failed:
                break
            time.sleep(5)
        shutil.rmtree(self.tmp, ignore_errors=True)


def produce_backlog(topic: str, count: int, key_of, value_of=None):
    producer = Producer({**BOOTSTRAP, "linger.ms": 20})
    for i in range(count):
        key = key_of(i)
        value = value_of(i, key) if value_of else {"k": key, "n": i, "amount": i % 100, "ward": "ICU"}
        while True:
            try:
                producer.produce(topic, key=key.encode(), value=json.dumps(value).encode())
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10000 == 0:
            producer.poll(0)
    if producer.flush(120):
        raise RuntimeError(f"the backlog of {topic} was not all delivered")


def end_offsets(topic: str) -> dict[int, int]:
    probe = Consumer({**BOOTSTRAP, "group.id": "bench-probe"})
    try:
        partitions = probe.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        probe.close()


def drained(group: str, topic: str) -> bool:
    end = end_offsets(topic)
    consumer = Consumer({**BOOTSTRAP, "group.id": group})
    try:
        committed = consumer.committed([TopicPartition(topic, p) for p in end], timeout=10)
        return all(tp.offset >= end[tp.partition] for tp in committed)
    finally:
        consumer.close()

