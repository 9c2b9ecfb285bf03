"""The candidates of the aggregation benchmark: the raw transactional loop (the baseline), Kafka Streams stage
topologies (portal.aggregator.bench.StreamsBench) and the engine itself (scripts/aggregator)."""

import json
import os
import re
import signal
import subprocess
import threading
import uuid
from pathlib import Path

import requests
from agg_common import BATCH, BOOTSTRAP, JAR, LAUNCHER, REPO, Run, cpu_seconds, wait
from agg_counter import OutputCounter
from confluent_kafka import Consumer, Producer
from django.conf import settings


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

