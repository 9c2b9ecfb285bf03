"""The aggregation engine (aggregator/, Java) as a real process for the data-plane tests, and the Kafka side of
its contract (docs/aggregations.md): a per-test definitions and status table, definitions rows written as the
reconciler writes them, Avro events in the Confluent wire format, outputs read back with read_committed.

The engine connects on the PLAINTEXT listener (the stack's super user), as it may locally until the portal
provisions its principal; everything it touches lives under the test's own prefix."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import struct
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import fastavro
import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import NewTopic
from django.conf import settings

from tests.fixtures.waiting import wait_for

REPO = Path(__file__).resolve().parents[3]
LAUNCHER = REPO / "scripts" / "aggregator"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class EngineProcess:
    """One engine process; ``kill()`` is a SIGKILL, ``start()`` starts it again with the same settings."""

    env: dict
    log: Path
    port: int
    proc: subprocess.Popen | None = None

    def start(self) -> EngineProcess:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(LAUNCHER)], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=REPO)
        wait_for(self.healthy_or_dead, timeout=120, interval=0.5, message=f"the engine on :{self.port} to answer")
        assert self.proc.poll() is None, f"the engine exited: {self.log.read_text()[-3000:]}"
        return self

    def healthy_or_dead(self) -> bool:
        if self.proc.poll() is not None:
            return True
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return False

    def health(self) -> dict:
        return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).json()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class EngineWorld:
    """The test's topics, its engines and its definitions (ids ``<prefix>.<name>``)."""

    admin: object
    tmp: Path
    prefix: str = field(default_factory=lambda: f"aggtest-{uuid.uuid4().hex[:8]}")
    engines: list = field(default_factory=list)
    topics: list = field(default_factory=list)
    subjects: list = field(default_factory=list)

    @property
    def definitions_topic(self) -> str:
        return f"{self.prefix}.definitions"

    @property
    def status_topic(self) -> str:
        return f"{self.prefix}.status"

    def app_prefix(self) -> str:
        return f"portal-agg-test.{self.prefix}."

    def topic(self, stem: str, partitions: int = 1, compacted: bool = False) -> str:
        name = f"{self.prefix}.{stem}"
        config = {"cleanup.policy": "compact"} if compacted else {}
        self.admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                           config=config)])[name].result(30)
        self.topics.append(name)
        wait_for(lambda: name in self.admin.list_topics(timeout=10).topics, timeout=30, message=f"{name} to exist")
        return name

    def engine(self, instance: str) -> EngineProcess:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGGREGATOR_", "AGGREGATIONS_"))}
        env.update({
            "AGGREGATOR_BOOTSTRAP_SERVERS": settings.KAFKA_BOOTSTRAP_SERVERS,
            "AGGREGATOR_SECURITY_PROTOCOL": "PLAINTEXT",
            "REGISTRY_URL": settings.SCHEMA_REGISTRY_URL,
            "AGGREGATIONS_TOPIC": self.definitions_topic,
            "AGGREGATIONS_STATUS_TOPIC": self.status_topic,
            "AGGREGATOR_STATE_DIR": str(self.tmp / f"state-{instance}"),
            "AGGREGATOR_HTTP_PORT": str(port),
            "AGGREGATOR_INSTANCE_ID": instance,
            "JAVA_OPTS": "-Xmx384m",
        })
        engine = EngineProcess(env=env, log=self.tmp / f"engine-{instance}.log", port=port)
        self.engines.append(engine)
        return engine.start()

    # --- the definitions table, as the reconciler writes it ---------------------------------------------------

    def define(self, name: str, version: int = 1, **fields) -> dict:
        row = {
            "format": 1, "id": f"{self.prefix}.{name}", "version": version,
            "application_id": f"{self.app_prefix()}{name}.v{version}",
            "filter": None, "group_by": None, "time": {"source": "record"},
            "measures": [{"name": "n", "op": "count"}, {"name": "total", "op": "sum", "field": "value.amount"}],
            "emit": "on_update", "late": "drop", "start_from": "earliest", "dead_letter_topic": None,
        }
        row.update(fields)
        self._write_definition(row["id"], json.dumps(row).encode())
        return row

    def delete(self, name: str):
        self._write_definition(f"{self.prefix}.{name}", None)

    def _write_definition(self, key: str, value: bytes | None):
        producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "enable.idempotence": True})
        producer.produce(self.definitions_topic, key=key.encode(), value=value)
        assert producer.flush(30) == 0

    # --- registry ---------------------------------------------------------------------------------------------

    def register(self, subject: str, schema: dict | str, schema_type: str = "AVRO") -> int:
        body = {"schema": schema if isinstance(schema, str) else json.dumps(schema)}
        if schema_type != "AVRO":
            body["schemaType"] = schema_type
        response = requests.post(f"{settings.SCHEMA_REGISTRY_URL}/subjects/{subject}/versions", json=body,
                                 headers={"Content-Type": "application/vnd.schemaregistry.v1+json"}, timeout=10)
        response.raise_for_status()
        self.subjects.append(subject)
        return response.json()["id"]

    def output_schema(self, output_topic: str) -> int:
        # Apicurio recognises a JSON Schema by its $schema (it cannot tell a bare {"type": "object"}).
        return self.register(f"{output_topic}-value", {"$schema": "http://json-schema.org/draft-07/schema#",
                                                       "type": "object", "properties": {"group": {"type": "string"}}},
                             "JSON")

    # --- reading ----------------------------------------------------------------------------------------------

    def read_all(self, topic: str) -> list:
        """Every committed record of ``topic`` now (read_committed, to the end of each partition)."""
        consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": uuid.uuid4().hex,
                             "isolation.level": "read_committed", "enable.auto.commit": False,
                             "auto.offset.reset": "earliest"})
        try:
            metadata = consumer.list_topics(topic, timeout=10).topics[topic]
            partitions = [TopicPartition(topic, p, 0) for p in metadata.partitions]
            ends = {p.partition: consumer.get_watermark_offsets(p, timeout=10)[1] for p in partitions}
            consumer.assign(partitions)
            records, last = [], None
            while True:
                message = consumer.poll(1.0)
                if message is not None:
                    assert not message.error(), message.error()
                    records.append(message)
                    continue
                # Nothing for a second: at the end, or at the last stable offset of an open transaction (what
                # read_committed may not pass), or past aborted records (positions move without messages).
                positions = {tp.partition: tp.offset for tp in
                             consumer.position([TopicPartition(topic, p) for p in ends])}
                if all(positions[p] >= end for p, end in ends.items()) or positions == last:
                    break
                last = positions
            return records
        finally:
            consumer.close()

    def results(self, topic: str) -> list[dict]:
        out = []
        for message in self.read_all(topic):
            value = message.value()
            assert value[0] == 0, "an output value not in the wire format"
            out.append(json.loads(value[5:]))
        return out

    def status_rows(self) -> dict:
        """The status table now: key -> row (None for a tombstone), the last row of each key."""
        rows = {}
        for message in self.read_all(self.status_topic):
            rows[message.key().decode()] = None if message.value() is None else json.loads(message.value())
        return rows

    def internal_topics(self, application_id: str) -> set[str]:
        return {t for t in self.admin.list_topics(timeout=10).topics if t.startswith(f"{application_id}-")}

    def cleanup(self):
        for engine in self.engines:
            engine.stop()
        for subject in self.subjects:
            for suffix in ("", "?permanent=true"):  # the registry deletes permanently only after a soft delete
                requests.delete(f"{settings.SCHEMA_REGISTRY_URL}/subjects/{subject}{suffix}", timeout=10)
        names = [t for t in self.admin.list_topics(timeout=10).topics
                 if t.startswith((f"{self.prefix}.", self.app_prefix()))]
        if names:
            for future in self.admin.delete_topics(names, operation_timeout=30).values():
                try:
                    future.result(30)
                except Exception:  # noqa: BLE001 - a topic the engine deleted meanwhile
                    pass


class AvroClaims:
    """Claims in the Confluent wire format with a registered Avro schema (the writer the engine fetches by id)."""

    SCHEMA = {"type": "record", "name": "Claim", "namespace": "agg.engine.test",
              "fields": [{"name": "provider_id", "type": "string"}, {"name": "amount", "type": "long"},
                         {"name": "at", "type": "long"}]}

    def __init__(self, world: EngineWorld, topic: str):
        self.topic = topic
        self.schema_id = world.register(f"{topic}-value", self.SCHEMA)
        self.parsed = fastavro.parse_schema(self.SCHEMA)
        self.producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "enable.idempotence": True,
                                  "linger.ms": 5})

    def encode(self, value: dict) -> bytes:
        buffer = io.BytesIO()
        buffer.write(struct.pack(">bI", 0, self.schema_id))
        fastavro.schemaless_writer(buffer, self.parsed, value)
        return buffer.getvalue()

    def send(self, key: str, provider: str, amount: int, timestamp_ms: int, headers=None):
        self.producer.produce(self.topic, key=key.encode(), timestamp=timestamp_ms, headers=headers,
                              value=self.encode({"provider_id": provider, "amount": amount, "at": timestamp_ms}))
        self.producer.poll(0)

    def flush(self):
        assert self.producer.flush(60) == 0
