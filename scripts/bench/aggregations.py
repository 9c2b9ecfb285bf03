"""Benchmark: the aggregation engine (aggregator/, Kafka Streams) against a raw transactional confluent-kafka
consume-produce loop measured in the same run, on the same source topic and partitions.

  scripts/dev bench aggregations [--keys 100000] [--events 30000] [--state-entries 100000] [--definitions 100]

1. Throughput and emit latency of a 1-minute tumbling count+sum over --keys keys (plain JSON events, the real
   engine process, its definition row in a definitions topic of this run's own), against the raw loop
   (exactly-once: read_committed, offsets in each batch's transaction). Throughput drains a backlog of --events
   events and counts from the first to the last output visible to a read_committed consumer (so start-up and
   rebalances count for nobody). Latency is produce time (the record's CreateTime) to the output record visible
   to that consumer, at half the slower one's throughput. Where the engine loses against the loop is measured
   with Kafka Streams topologies (portal.aggregator.bench.StreamsBench) that add one stage at a time: exactly-once
   Kafka Streams alone, + the repartition topic, + the RocksDB window store and its changelog; what remains is the
   engine's own work (decoding, expressions, lateness gate, output serde).
2. Restore after kill -9 with --state-entries distinct keys in one open window: time until /healthz says RUNNING,
   and until a new event's result is visible again.
3. Memory of one engine process (RSS, heap used after a full GC via jcmd: /metrics has no JVM figures) with 0,
   1, 10 and 100 definitions on a small source topic; per definition against the process with none.
4. Routing: the Python router (onboarding/routing, as scripts/bench/router.py runs it) and a Kafka Streams filter
   topology with the same 100 JMESPath rules (99 select nothing, one everything) on the same events, against the
   raw loop.

Everything lives under the run's prefix (topics, internal topics, groups, registry subjects, state directories) and
is removed at the end, also after a failure or Ctrl-C.
"""

import argparse
import datetime
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
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

from onboarding.routing.router import Router  # noqa: E402
from onboarding.routing.rules import Rule, rule_upsert  # noqa: E402

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
# each put in the category of the innermost frame that belongs to one (JSON in a JMESPath call counts as JMESPath).
PROFILE_CATEGORIES = (
    ("org/rocksdb/", "RocksDB"),
    ("io/burt/jmespath/", "JMESPath"),
    ("portal/aggregator/serde/", "engine serde (wire format, schemas)"),
    ("com/fasterxml/jackson/", "Jackson (JSON parse/write)"),
    ("portal/aggregator/", "engine topology (admission, gate, measures)"),
    ("org/apache/kafka/streams/state/", "Kafka Streams state stores (Java side)"),
    ("org/apache/kafka/clients/producer/", "Kafka producer"),
    ("org/apache/kafka/clients/consumer/", "Kafka consumer"),
    ("org/apache/kafka/common/", "Kafka clients common (records, network)"),
    ("org/apache/kafka/streams/", "Kafka Streams runtime"),
)


def profile_start(pid: int):
    subprocess.run(["jcmd", str(pid), "JFR.start", "name=bench", "settings=profile"], capture_output=True,
                   timeout=60, check=True)


def profile_stop(pid: int, path: Path) -> str:
    subprocess.run(["jcmd", str(pid), "JFR.stop", "name=bench", f"filename={path}"], capture_output=True,
                   timeout=120, check=True)
    out = subprocess.run(["jfr", "print", "--json", "--events", "jdk.ExecutionSample,jdk.NativeMethodSample",
                          "--stack-depth", "32", str(path)], capture_output=True, text=True, timeout=300, check=True)
    counts: dict[str, int] = {}
    for event in json.loads(out.stdout)["recording"]["events"]:
        values = event["values"]
        if "StreamThread" not in ((values.get("sampledThread") or {}).get("javaName") or ""):
            continue
        frames = [f["method"]["type"]["name"] for f in (values.get("stackTrace") or {}).get("frames", [])]
        category = next((name for frame in frames for prefix, name in PROFILE_CATEGORIES
                         if frame.startswith(prefix)), "JDK / other")
        # Native samples: only time inside RocksDB is work; the rest is the thread waiting (poll, sockets).
        if event["type"] == "jdk.NativeMethodSample" and category != "RocksDB":
            continue
        counts[category] = counts.get(category, 0) + 1
    total = sum(counts.values()) or 1
    top = sorted(counts.items(), key=lambda item: -item[1])[:7]
    return f"{total} samples: " + ", ".join(f"{name} {n / total:.0%}" for name, n in top)


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- counting outputs in a process of its own (so the GIL of an in-process candidate is not shared) ------------

def _count_outputs(topic, from_end, mark, count, first, marked, pace_from, stop, ready, results):
    consumer = Consumer({**BOOTSTRAP, "group.id": f"bench-count-{uuid.uuid4().hex[:6]}", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    start = [TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                            if from_end else 0) for p in partitions]
    consumer.assign(start)
    consumer.consume(num_messages=1, timeout=0.5)  # offsets resolved before anything is measured
    ready.set()
    seen, latencies = 0, []
    while not stop.is_set():
        messages = consumer.consume(num_messages=1000, timeout=0.1)
        now_ms, now = time.time() * 1000, time.perf_counter()
        for message in messages:
            if message.error() is not None:
                continue
            seen += 1
            if seen == 1:
                first.value = now
            if seen == mark:
                marked.value = now
            timestamp = message.timestamp()[1]
            if timestamp >= pace_from.value:
                latencies.append(now_ms - timestamp)
        count.value = seen
    consumer.close()
    results.put(latencies)


class OutputCounter:
    """Counts the records of ``topic`` visible to a read_committed consumer (in a process of its own, so an
    in-process candidate does not share its GIL): when the first and the ``mark``-th became visible, and the
    latency (now - CreateTime) of each record produced at or after ``pace_from``."""

    def __init__(self, topic: str, mark: int = 0, from_end: bool = False):
        context = multiprocessing.get_context("spawn")
        self.mark = mark
        self.count, self.pace_from = context.Value("q", 0), context.Value("q", 2**62)
        self.first, self.marked = context.Value("d", 0.0), context.Value("d", 0.0)
        self.stop, ready, self.results = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(target=_count_outputs, daemon=True, args=(
            topic, from_end, mark, self.count, self.first, self.marked, self.pace_from, self.stop, ready,
            self.results))
        self.process.start()
        if not ready.wait(60):
            raise RuntimeError(f"the output counter of {topic} did not start")

    def wait_for(self, target: int, timeout: float, what: str):
        wait(lambda: self.count.value >= target, timeout, f"{target} outputs of {what} (have {self.count.value})",
             interval=0.05)

    def throughput(self) -> float:
        """Events/s from the first output to the mark-th: the first already paid for start-up and rebalances."""
        return (self.mark - 1) / (self.marked.value - self.first.value)

    def start_pacing(self):
        self.pace_from.value = int(time.time() * 1000)

    def finish(self) -> list:
        self.stop.set()
        latencies = self.results.get(timeout=60)
        self.process.join(30)
        return latencies


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


# --- candidates ----------------------------------------------------------------------------------------------

class RawLoop:
    """The baseline: one thread, read_committed, one transaction per batch with the offsets in it; decodes each
    value (the engine and the router have to as well) and copies key, value, headers and timestamp."""

    def __init__(self, run: Run, source: str, destination: str):
        self.source, self.destination = source, destination
        self.group = f"bench-raw-{run.id}-{uuid.uuid4().hex[:4]}"
        run.groups.append(self.group)
        self.stop_event = threading.Event()
        self.thread = None

    def start(self):
        self.stop_event.clear()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(60)

    def _run(self):
        consumer = Consumer({**BOOTSTRAP, "group.id": self.group, "enable.auto.commit": False,
                             "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
        producer = Producer({**BOOTSTRAP, "transactional.id": f"{self.group}-{uuid.uuid4().hex[:6]}",
                             "linger.ms": 5})
        producer.init_transactions()
        consumer.subscribe([self.source])
        try:
            while not self.stop_event.is_set():
                # A short wait, as Kafka Streams' 100 ms commit interval under exactly-once: latency is measured.
                messages = [m for m in consumer.consume(num_messages=BATCH, timeout=0.05) if m.error() is None]
                if not messages:
                    continue
                producer.begin_transaction()
                for message in messages:
                    json.loads(message.value())
                    producer.produce(self.destination, key=message.key(), value=message.value(),
                                     headers=message.headers(), timestamp=message.timestamp()[1])
                producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                                     consumer.consumer_group_metadata())
                producer.commit_transaction()
        finally:
            consumer.close()


def java_process(run: Run, args: list, env: dict | None, log_name: str) -> subprocess.Popen:
    log_file = open(run.tmp / log_name, "ab")  # noqa: SIM115 - closed with the process at the end of the run
    process = subprocess.Popen(args, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               cwd=REPO)
    run.processes.append(process)
    return process


class StreamsBenchProcess:
    """portal.aggregator.bench.StreamsBench in a JVM of its own (the jar scripts/aggregator builds)."""

    def __init__(self, run: Run, mode: str, source: str, output: str, rules_file: Path | None = None):
        self.application_id = f"{run.prefix}.{mode}-{uuid.uuid4().hex[:4]}"
        args = ["java", "-Xmx512m", "-cp", str(JAR), "portal.aggregator.bench.StreamsBench", mode,
                settings.KAFKA_BOOTSTRAP_SERVERS, self.application_id, source, output, str(run.tmp / "streams")]
        if rules_file:
            args.append(str(rules_file))
        self.run = run
        self.log = run.tmp / f"{self.application_id}.log"
        self.process = java_process(run, args, None, self.log.name)

    def stop(self):
        self.run.stop(self.process)


class Engine:
    """The engine (scripts/aggregator) with this run's definitions and status topics."""

    def __init__(self, run: Run, instance: str, definitions_topic: str, status_topic: str):
        self.run, self.port = run, _free_port()
        self.definitions_topic = definitions_topic
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AGGREGATOR_", "AGGREGATIONS_"))}
        self.env.update({
            "AGGREGATOR_BOOTSTRAP_SERVERS": settings.KAFKA_BOOTSTRAP_SERVERS,
            "AGGREGATOR_SECURITY_PROTOCOL": "PLAINTEXT",
            "REGISTRY_URL": settings.SCHEMA_REGISTRY_URL,
            "AGGREGATIONS_TOPIC": definitions_topic,
            "AGGREGATIONS_STATUS_TOPIC": status_topic,
            "AGGREGATOR_STATE_DIR": str(run.tmp / f"state-{instance}"),
            "AGGREGATOR_HTTP_PORT": str(self.port),
            "AGGREGATOR_INSTANCE_ID": instance,
            # The engine's logging plus Kafka Streams' "Finished restoring changelog" lines (the engine logs it WARN).
            "JAVA_OPTS": f"-Xmx512m -Dlog4j2.configurationFile={_log_config(run)}",
        })
        self.log = run.tmp / f"engine-{instance}.log"
        self.process = None

    def start(self):
        self.process = java_process(self.run, [str(LAUNCHER)], self.env, self.log.name)
        wait(self.answers, 180, "the engine's HTTP port")
        if self.process.poll() is not None:
            raise RuntimeError(f"the engine exited: {self.log.read_text()[-3000:]}")
        return self

    def answers(self) -> bool:
        if self.process.poll() is not None:
            return True
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return False

    def states(self) -> dict:
        try:
            body = requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).json()
        except requests.RequestException:
            return {}
        return {k: v["state"] for k, v in body.get("definitions", {}).items()}

    def metric(self, name: str, definition: str) -> float:
        text = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text
        match = re.search(rf'^{name}{{definition="{re.escape(definition)}"}} (\S+)$', text, re.M)
        return float(match.group(1)) if match else 0.0

    def define(self, run: Run, name: str, source: str, output: str, window_ms: int, schema_id: int) -> str:
        row = {"format": 1, "id": f"{run.prefix}.{name}", "version": 1,
               "application_id": f"{run.prefix}.app.{name}.v1", "source_topic": source, "output_topic": output,
               "dead_letter_topic": None, "filter": None, "group_by": "value.k",
               "window": {"type": "tumbling", "size_ms": window_ms, "advance_ms": None, "gap_ms": None,
                          "grace_ms": 3_600_000},
               "time": {"source": "record"},
               "measures": [{"name": "n", "op": "count"}, {"name": "total", "op": "sum", "field": "value.amount"}],
               "emit": "on_update", "late": "drop", "start_from": "earliest", "output_schema_id": schema_id}
        producer = Producer({**BOOTSTRAP, "enable.idempotence": True})
        producer.produce(self.definitions_topic, key=row["id"].encode(), value=json.dumps(row).encode())
        if producer.flush(30):
            raise RuntimeError("the definition row was not written")
        return row["id"]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self):
        self.run.stop(self.process)


def _log_config(run: Run) -> Path:
    path = run.tmp / "log4j2-bench.properties"
    if not path.exists():
        base = (REPO / "aggregator" / "src" / "main" / "resources" / "log4j2.properties").read_text()
        path.write_text(base + "\nlogger.restore.name = org.apache.kafka.streams.processor.internals"
                        ".StoreChangelogReader\nlogger.restore.level = INFO\n")
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_java(start, output: str, events: int, timeout: float) -> tuple[float, float, object]:
    """Starts a JVM candidate, waits for ``events`` outputs: events/s and its CPU ms per 1000 events."""
    counter = OutputCounter(output, mark=events)
    candidate = start()
    pid = candidate.process.pid
    counter.wait_for(1, timeout, output)
    cpu_before = cpu_seconds(pid)
    counter.wait_for(events, timeout, output)
    cpu = (cpu_seconds(pid) - cpu_before) * 1e6 / events
    counter.finish()
    return counter.throughput(), cpu, candidate


# --- the measurements ----------------------------------------------------------------------------------------

def key_of(options):
    return lambda i: f"k{(i * 7919) % options.keys}"


def aggregation_and_route(run: Run, options, rows: list, notes: list):
    source = run.topic("src")
    log(f"producing {options.events} events over {options.keys} keys to {source}")
    produce_backlog(source, options.events, key_of(options))
    timeout = max(300.0, options.events / 50)

    # The baseline.
    raw_out = run.topic("raw-out")
    raw = RawLoop(run, source, raw_out)
    counter = OutputCounter(raw_out, mark=options.events)
    cpu_before = time.process_time()
    raw.start()
    counter.wait_for(options.events, timeout, "the raw loop")
    raw_cpu = (time.process_time() - cpu_before) * 1e6 / options.events
    raw.stop()
    counter.finish()
    raw_eps = counter.throughput()
    log(f"raw loop: {raw_eps:.0f} events/s")

    # Kafka Streams, one stage of the engine's topology added at a time.
    stages = {}
    for mode in ("passthrough", "repartition", "window"):
        output = run.topic(f"{mode}-out")
        eps, cpu, process = measure_java(lambda m=mode, o=output: StreamsBenchProcess(run, m, source, o),
                                         output, options.events, timeout)
        process.stop()
        stages[mode] = (eps, cpu)
        log(f"streams {mode}: {eps:.0f} events/s")

    # The engine: throughput on the backlog, then latency at half the slower one's rate.
    definitions, status = run.topic("definitions", 1, True), run.topic("status", 1, True)
    engine_out = run.topic("agg-out")
    schema_id = run.register_output_schema(engine_out)
    engine = Engine(run, "throughput", definitions, status)
    counter = OutputCounter(engine_out, mark=options.events)
    engine.start()
    engine.define(run, "per-key-minute", source, engine_out, 60_000, schema_id)
    counter.wait_for(1, timeout, "the engine")
    cpu_before = cpu_seconds(engine.process.pid)
    profile_start(engine.process.pid)
    counter.wait_for(options.events, timeout, "the engine")
    engine_cpu = (cpu_seconds(engine.process.pid) - cpu_before) * 1e6 / options.events
    profile = profile_stop(engine.process.pid, run.tmp / "engine.jfr")
    engine_eps = counter.throughput()
    log(f"engine: {engine_eps:.0f} events/s")
    rate = 0.5 * min(raw_eps, engine_eps)
    producer = Producer({**BOOTSTRAP, "linger.ms": 0})
    counter.start_pacing()
    paced = pace(producer, source, rate, options.latency_seconds, key_of(options))
    counter.wait_for(options.events + paced, timeout, "the engine's paced events")
    engine_lat = counter.finish()
    engine.stop()

    # The baseline's latency at the same rate (it first catches up with the events paced for the engine).
    raw.start()
    wait(lambda: drained(raw.group, source), timeout, "the raw loop to catch up")
    counter = OutputCounter(raw_out, from_end=True)
    counter.start_pacing()
    paced = pace(producer, source, rate, options.latency_seconds, key_of(options))
    counter.wait_for(paced, timeout, "the raw loop's paced events")
    raw_lat = counter.finish()
    raw.stop()

    rows.append(("1. raw transactional loop", raw_eps, raw_cpu, raw_lat, None))
    for mode, label in (("passthrough", "streams passthrough, EOS v2"), ("repartition", "  + repartition topic"),
                        ("window", "  + RocksDB window count")):
        rows.append((f"   {label}", stages[mode][0], stages[mode][1], None, raw_eps))
    rows.append(("   engine, 1-min count+sum", engine_eps, engine_cpu, engine_lat, raw_eps))
    ratio = engine_eps / raw_eps
    notes.append(f"aggregation goal engine >= 0.7x the raw loop: {'met' if ratio >= 0.7 else 'NOT met'} "
                 f"({ratio:.2f}x); latency measured at {rate:.0f} events/s for {options.latency_seconds:.0f} s each")
    # Per-event time (1/throughput) of each stage, attributed to what the stage adds.
    per_event = [1 / raw_eps, 1 / stages["passthrough"][0], 1 / stages["repartition"][0], 1 / stages["window"][0],
                 1 / engine_eps]
    names = ["Kafka Streams EOS itself (100 ms commits, its clients)", "repartition topic",
             "RocksDB window store + changelog", "engine's own (JSON decode, JMESPath, lateness gate, output serde)"]
    total = per_event[-1] - per_event[0]
    parts = "; ".join(f"{name} {(b - a) * 1e6:+.0f} us ({(b - a) / total:.0%})"
                      for name, a, b in zip(names, per_event[:-1], per_event[1:], strict=True))
    notes.append(f"where the time goes, per event (engine {per_event[-1] * 1e6:.0f} us, raw loop "
                 f"{per_event[0] * 1e6:.0f} us; a negative step is within this run's noise): {parts}")
    notes.append(f"engine's stream thread while draining (JFR, innermost matching frame): {profile}")

    # 4. Routing, on the same source (every event in it): the Kafka Streams filter topology, the Python router.
    total_events = sum(end_offsets(source).values())
    expressions = [("value.n >= `0`" if i == 0 else f"value.n < `-{i}`") for i in range(100)]
    route_out = run.topic("route-out")
    rules_file = run.tmp / "rules.json"
    rules_file.write_text(json.dumps([{"filter": f, "destination": route_out} for f in expressions]))
    streams_eps, streams_cpu, process = measure_java(
        lambda: StreamsBenchProcess(run, "route", source, route_out, rules_file), route_out, total_events, timeout)
    process.stop()
    log(f"streams route: {streams_eps:.0f} events/s")
    router_eps, router_cpu = python_router(run, source, run.topic("router-out"), expressions, total_events, timeout)
    log(f"python router: {router_eps:.0f} events/s")
    rows.append(("4. Python router, 100 rules", router_eps, router_cpu, None, raw_eps))
    rows.append(("   Kafka Streams filter topology", streams_eps, streams_cpu, None, raw_eps))
    notes.append(routing_conclusion(router_eps, streams_eps, raw_eps))


def python_router(run: Run, source: str, destination: str, expressions: list, events: int, timeout: float):
    rules_topic = run.topic("router-rules", 1, True)
    dlq = run.topic("router-out.dlq")
    producer = Producer(BOOTSTRAP)
    for i, expression in enumerate(expressions):
        rule_upsert(producer, rules_topic, Rule(f"{run.prefix}-{i}", source, destination, expression, dlq))
    producer.flush(30)
    router = Router(group_id=f"{run.prefix}.router", rules_topic=rules_topic, batch_size=BATCH)
    counter = OutputCounter(destination, mark=events)
    stop, ready = threading.Event(), threading.Event()
    cpu_before = time.process_time()
    thread = threading.Thread(target=router.run, args=(stop, ready), daemon=True)
    thread.start()
    try:
        ready.wait(60)
        counter.wait_for(events, timeout, "the router")
        cpu = (time.process_time() - cpu_before) * 1e6 / events
    finally:
        stop.set()
        thread.join(60)
        counter.finish()
    return counter.throughput(), cpu


def routing_conclusion(router_eps: float, streams_eps: float, raw_eps: float) -> str:
    speedup = streams_eps / router_eps
    if speedup >= 1.5:
        verdict = "routing would gain from moving to the JVM data plane"
    elif router_eps >= 0.7 * raw_eps:
        verdict = "keep routing in Python: it meets 0.7x the raw loop and the JVM is not clearly faster"
    else:
        verdict = "the JVM topology is not clearly faster: moving routing would not pay for itself"
    return (f"routing: Kafka Streams {speedup:.2f}x the Python router ({streams_eps / raw_eps:.2f}x vs "
            f"{router_eps / raw_eps:.2f}x the raw loop): {verdict}")


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
                 f" a new event's result visible in {emitted - killed:.1f} s; the killed member left the group after"
                 f" {(evicted or emitted) - killed:.1f} s (session timeout)"
                 + restored_note)


def group_members(run: Run, group: str) -> set:
    try:
        described = run.admin.describe_consumer_groups([group])[group].result(10)
    except Exception:  # noqa: BLE001 - between generations; asked again on the next round
        return set()
    return {member.member_id for member in described.members}


def all_running(states: dict, count: int) -> bool:
    return len(states) >= count and all(state == "RUNNING" for state in states.values())


def memory(run: Run, options, rows: list, notes: list):
    source, output = run.topic("memory-src", 1), run.topic("memory-out", 1)
    definitions, status = run.topic("memory-definitions", 1, True), run.topic("memory-status", 1, True)
    schema_id = run.register_output_schema(output)
    produce_backlog(source, 100, key_of(options))
    engine = Engine(run, "memory", definitions, status).start()
    time.sleep(5)
    pid = engine.process.pid
    base_heap, base_rss = heap_used_mib(pid), rss_mib(pid)
    figures = [f"0 definitions: RSS {base_rss:.0f} MiB, heap {base_heap:.0f} MiB"]
    defined: list[str] = []
    for target in [n for n in (1, 10, 100) if n <= options.definitions]:
        while len(defined) < target:
            defined.append(engine.define(run, f"mem{len(defined)}", source, output, 60_000, schema_id))
        wait(lambda n=target: all_running(engine.states(), n), max(300.0, target * 6),
             f"{target} definitions RUNNING", interval=1)
        time.sleep(5)  # past the first commits and status rows
        heap, rss = heap_used_mib(pid), rss_mib(pid)
        figures.append(f"{target}: RSS {rss:.0f} MiB ({(rss - base_rss) / target:.1f}/definition), heap "
                       f"{heap:.0f} MiB ({(heap - base_heap) / target:.1f}/definition)")
        log(f"memory with {target} definitions: RSS {rss:.0f} MiB, heap {heap:.0f} MiB")
    engine.stop()
    notes.append("memory (one engine, -Xmx512m, heap after a full GC; /metrics has no JVM figures): "
                 + "; ".join(figures))


def print_table(rows: list, notes: list):
    print(f"{'':44} {'events/s':>10} {'ratio':>6} {'cpu us/event':>12} {'p50 ms':>8} {'p99 ms':>8}")
    for label, eps, cpu, latencies, baseline in rows:
        if eps is None:
            continue
        ratio = f"{eps / baseline:6.2f}" if baseline else f"{'1.00':>6}"
        lat = (f"{percentile(latencies, 0.5):8.0f} {percentile(latencies, 0.99):8.0f}" if latencies
               else f"{'':8} {'':8}")
        print(f"{label:44} {eps:10.0f} {ratio} {cpu:12.0f} {lat}")
    for note in notes:
        print(note)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000, help="group keys of the throughput run")
    parser.add_argument("--events", type=int, default=30_000, help="backlog of the throughput runs")
    parser.add_argument("--state-entries", type=int, default=100_000, help="keys held when the engine is killed")
    parser.add_argument("--definitions", type=int, default=100, help="largest definition count of the memory run")
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="length of each paced latency run")
    parser.add_argument("--only", choices=("aggregation", "restore", "memory"), action="append",
                        help="run only these parts (aggregation includes routing); repeatable")
    options = parser.parse_args()
    parts = options.only or ["aggregation", "restore", "memory"]
    # A SIGTERM (a killed CI job) cleans up as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    subprocess.run([str(LAUNCHER), "build"], check=True)
    # The router logs its counters per rule when it stops: a hundred rules' worth of noise here.
    logging.getLogger("onboarding.routing").setLevel(logging.WARNING)
    run = Run()
    rows, notes = [], []
    # The machine is shared: its load says how far this run's figures can be trusted against another run's.
    load_before = os.getloadavg()[0]
    log(f"run {run.prefix}, files in {run.tmp}")
    try:
        if "aggregation" in parts:
            aggregation_and_route(run, options, rows, notes)
        if "restore" in parts:
            restore(run, options, rows, notes)
        if "memory" in parts:
            memory(run, options, rows, notes)
        print(f"events: {options.events} JSON (plain, no schema) over {options.keys} keys, {PARTITIONS} partitions;"
              f" every candidate exactly-once, one thread; load average {load_before:.1f} at the start,"
              f" {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs; cpu = the candidate process's")
        print_table(rows, notes)
    finally:
        log("cleaning up")
        run.cleanup()


if __name__ == "__main__":
    main()
