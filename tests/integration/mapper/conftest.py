"""Helpers for mapper tests on the real broker and registry: two acquired labs' feeds (an Avro one and a JSON
Schema one, with their own field names, date formats and codes), the canonical patient they map into, a mapper in
this process or as `manage.py run_mapper`, and the governance team's SCRAM account that reads the canonical topic.

The tests write rows straight to their own mappings table, in the row format the portal's reconciler publishes
(``mapping_table_row``); the mapper under test never knows the difference."""

import json
import os
import secrets
import struct
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from django.conf import settings

from onboarding.mapper.table import encode_row
from onboarding.platform.compacted import produce_and_wait
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.registry import Registry
from onboarding.platform.types import AclSpec
from onboarding.reconcile import mapper_acls
from onboarding.routing.decode import SchemaCache, decode_value, encode_avro
from tests.integration.routing.conftest import RouterProcess, RouterThread, held_commit_command, started_threads

REPO = Path(__file__).resolve().parents[3]
LOG_DIR = REPO / ".stack" / "logs"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
# A killed mapper's open transaction holds back read_committed readers until it times out, and its group
# membership until its session expires: short values keep the crash test within seconds.
FAST_MAPPER_ENV = {"MAPPER_TRANSACTION_TIMEOUT_MS": "10000", "MAPPER_SESSION_TIMEOUT_MS": "6000"}

# --- the feeds ------------------------------------------------------------------------------------------------
LAB_A_AVRO = {"type": "record", "name": "LabAPatient", "namespace": "lab.a", "fields": [
    {"name": "seq", "type": "long"}, {"name": "pid", "type": "string"}, {"name": "dob", "type": "string"},
    {"name": "sex", "type": "string"}, {"name": "weight_lb", "type": ["null", "double"], "default": None}]}
LAB_B_JSON = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": {"n": {"type": "integer"}, "patientId": {"type": "string"},
                             "birthDate": {"type": "string"}, "gender": {"type": "string"},
                             "weightKg": {"type": "number"}},
              "required": ["n", "patientId", "birthDate", "gender"]}
CANONICAL_AVRO = {"type": "record", "name": "Patient", "namespace": "std", "fields": [
    {"name": "source", "type": "string"}, {"name": "seq", "type": "long"}, {"name": "patient_id", "type": "string"},
    {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}},
    {"name": "gender", "type": {"type": "enum", "name": "Gender", "symbols": ["male", "female", "other", "unknown"]}},
    {"name": "weight_kg", "type": ["null", "double"], "default": None}]}

LAB_A_RULES = [
    {"target": "source", "sources": [], "fn": "constant", "args": {"value": "lab-a"}},
    {"target": "seq", "sources": ["seq"], "fn": "rename"},
    {"target": "patient_id", "sources": ["pid"], "fn": "rename"},
    {"target": "birth_date", "sources": ["dob"], "fn": "date_parse",
     "args": {"formats": ["%Y%m%d"], "output": "epoch_days"}},
    {"target": "gender", "sources": ["sex"], "fn": "code", "args": {"table": "sex_a", "default": "unknown"}},
    {"target": "weight_kg", "sources": ["weight_lb"], "fn": "unit", "args": {"from": "lb", "to": "kg", "digits": 2}},
]
LAB_B_RULES = [
    {"target": "source", "sources": [], "fn": "constant", "args": {"value": "lab-b"}},
    {"target": "seq", "sources": ["n"], "fn": "rename"},
    {"target": "patient_id", "sources": ["patientId"], "fn": "rename"},
    {"target": "birth_date", "sources": ["birthDate"], "fn": "date_parse",
     "args": {"formats": ["%d/%m/%Y"], "output": "epoch_days"}},
    {"target": "gender", "sources": ["gender"], "fn": "code", "args": {"table": "sex_b"}},
    {"target": "weight_kg", "sources": ["weightKg"], "fn": "rename"},
]
CODE_TABLES = {"sex_a": {"version": 1, "entries": {"M": "male", "F": "female"}, "default": None},
               "sex_b": {"version": 3, "entries": {"1": "male", "2": "female", "9": "unknown"}, "default": None}}


def lab_a_event(n: int) -> dict:
    return {"seq": n, "pid": f"A{n:05d}", "dob": f"19{50 + n % 50:02d}0{1 + n % 9}1{n % 10}",
            "sex": "MF"[n % 2], "weight_lb": 150.0 + n % 7}


def lab_b_event(n: int) -> dict:
    return {"n": n, "patientId": f"B{n:05d}", "birthDate": f"1{n % 10}/0{1 + n % 9}/19{50 + n % 50:02d}",
            "gender": "12"[n % 2], "weightKg": 70.5}


def json_wire(schema_id: int, event) -> bytes:
    return struct.pack(">BI", 0, schema_id) + json.dumps(event).encode()


class Feeds:
    """The registered schemas (ids) of the two labs and the canonical patient, and the topics of one test."""

    def __init__(self, registry, subjects: list, make_topic, partitions: int = 1):
        run = uuid.uuid4().hex[:8]
        self.src_a = make_topic(f"mapper.lab-a-{run}", partitions)
        self.src_b = make_topic(f"mapper.lab-b-{run}", partitions)
        self.canonical = make_topic(f"mapper.std-patient-{run}", partitions)
        self.dlq = make_topic(f"{self.canonical}.dlq")
        self.table = make_topic(f"mapper.table-{run}", 1, {"cleanup.policy": "compact"})
        subjects += [f"{self.src_a}-value", f"{self.src_b}-value", f"{self.canonical}-value"]
        self.a_id = registry.register(f"{self.src_a}-value", LAB_A_AVRO)
        self.b_id = registry.register(f"{self.src_b}-value", LAB_B_JSON, schemaType="JSON")
        self.canonical_id = registry.register(f"{self.canonical}-value", CANONICAL_AVRO)
        self.run = run

    def row(self, which: str, *, version: int = 1, rules=None) -> dict:
        """A row of the mappings table as ``mapping_table_row`` gives it."""
        source = self.src_a if which == "a" else self.src_b
        return {"id": f"clinical.lab-{which}-{self.run}", "version": version, "source_topic": source,
                "target_topic": self.canonical, "source_subject": f"{source}-value",
                "target_subject": f"{self.canonical}-value", "target_schema_id": self.canonical_id,
                "rules": rules if rules is not None else (LAB_A_RULES if which == "a" else LAB_B_RULES),
                "code_tables": CODE_TABLES, "dlq_topic": self.dlq}

    def publish(self, row: dict) -> None:
        producer = Producer(default_kafka_connection().client_config())
        produce_and_wait(producer, self.table, row["id"], encode_row(row), 30)

    def produce_a(self, numbers, headers=None) -> None:
        _produce(self.src_a, [(f"a{n}", encode_avro(self.a_id, json.dumps(LAB_A_AVRO), lab_a_event(n)))
                              for n in numbers], headers)

    def produce_b(self, numbers, headers=None, *, event=lab_b_event) -> None:
        _produce(self.src_b, [(f"b{n}", json_wire(self.b_id, event(n))) for n in numbers], headers)


def _produce(topic, records, headers=None) -> None:
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "acks": "all", "linger.ms": 5})
    for key, value in records:
        while True:
            try:
                producer.produce(topic, key=key.encode(), value=value, headers=headers)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(30) == 0


@pytest.fixture
def feeds(registry, registry_subjects, make_topic):
    return Feeds(registry, registry_subjects, make_topic)


# --- reading the canonical topic ---------------------------------------------------------------------------------
class Governance:
    """The governance team's SCRAM account: it may read the canonical topics (``mapper.std-``), nothing else."""

    def __init__(self):
        self.username = f"governance.t{uuid.uuid4().hex[:10]}"
        self.password = secrets.token_urlsafe(24)
        principal = f"User:{self.username}"
        self.acls = {AclSpec("TOPIC", "mapper.std-", "PREFIXED", principal, op) for op in ("READ", "DESCRIBE")}
        self.acls.add(AclSpec("GROUP", "governance.", "PREFIXED", principal, "READ"))
        self.admin = KafkaAcls(default_kafka_connection())
        assert self.admin.alter_scram(upserts={self.username: self.password})[self.username] is None
        assert not any(self.admin.create_acls(self.acls).values())

    def config(self) -> dict:
        return {"bootstrap.servers": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"], "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": self.username, "sasl.password": self.password}

    def remove(self) -> None:
        self.admin.delete_acls(self.acls)
        self.admin.alter_scram(deletes=[self.username])


@pytest.fixture
def governance():
    account = Governance()
    yield account
    account.remove()


def read_committed(topic, *, expect: int, config: dict | None = None, timeout: float = 90,
                   settle: float = 2.0) -> list[dict]:
    """Every committed record of ``topic`` (as ``config``'s principal, else the admin), read until ``expect`` are
    seen plus ``settle`` quiet seconds (so duplicates would be seen too); values decoded with the registry."""
    consumer = Consumer({**(config or {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}),
                         "group.id": f"governance.reader-{uuid.uuid4().hex}", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    schemas = SchemaCache(Registry())
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records, deadline, last_new = [], time.monotonic() + timeout, time.monotonic()
        while time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=0.5):
                if message.error() is None:
                    records.append(_record(message, schemas))
                    last_new = time.monotonic()
                else:
                    assert "AUTHORIZATION" not in message.error().name(), message.error()
            if len(records) >= expect and time.monotonic() - last_new >= settle:
                break
        return records
    finally:
        consumer.close()


def _record(message, schemas) -> dict:
    raw = message.value()
    try:
        value = decode_value(raw, schemas)
    except ValueError:
        value = None
    return {"key": message.key(), "raw": raw, "value": value, "partition": message.partition(),
            "headers": {k: (v or b"").decode() for k, v in (message.headers() or [])}}


# --- mappers ------------------------------------------------------------------------------------------------------
class MapperThread(RouterThread):
    """The Mapper in this process (admin connection): quick to start, its table and counters can be inspected."""

    def __init__(self, group, table_topic):
        from onboarding.mapper.mapper import Mapper

        super().__init__(group, table_topic, process=Mapper(group_id=group, table_topic=table_topic, batch_size=200))

    @property
    def mapper(self):
        return self.router


@pytest.fixture
def mapper_thread():
    yield from started_threads(MapperThread)


class TestMapperPrincipal:
    """A mapper principal of the test's own (run_mapper refuses to start without one), with the ACLs
    ``mapper_acls.planned`` gives for the test's rows: Kafka refuses it everything else."""

    def __init__(self, group: str, feeds: Feeds):
        self.username = f"portal-mapper.t{uuid.uuid4().hex[:10]}"
        self.password = secrets.token_urlsafe(24)
        topics = [mapper_acls.MappingTopics(src, feeds.canonical, feeds.dlq) for src in (feeds.src_a, feeds.src_b)]
        self.acls = mapper_acls.planned(mapper_acls.principal_of(self.username), topics, table_topic=feeds.table,
                                        group_id=group, transactional_id_prefix=settings.MAPPER_TRANSACTIONAL_ID_PREFIX)
        self._admin = KafkaAcls(default_kafka_connection())

    def provision(self) -> dict[str, str]:
        assert self._admin.alter_scram(upserts={self.username: self.password})[self.username] is None
        assert not any(self._admin.create_acls(self.acls).values())
        return {"MAPPER_KAFKA_USERNAME": self.username, "MAPPER_KAFKA_PASSWORD": self.password,
                "MAPPER_KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"]}

    def remove(self) -> None:
        self._admin.delete_acls(self.acls)
        self._admin.alter_scram(deletes=[self.username])


class MapperProcess(RouterProcess):
    """`manage.py run_mapper` in its own process group, to be killed hard."""

    fast_env = FAST_MAPPER_ENV
    ready_line = r"mapper \S+ ready"

    def __init__(self, group, feeds: Feeds):
        self.log_path = LOG_DIR / f"test-mapper-{uuid.uuid4().hex[:8]}.log"
        self.command = held_commit_command("run_mapper", "--group", group, "--table-topic", feeds.table)
        self.process = None
        self.principal = TestMapperPrincipal(group, feeds)


@pytest.fixture
def mapper_process():
    started = []

    def start(group, feeds) -> MapperProcess:
        mapper = MapperProcess(group, feeds)
        started.append(mapper)
        return mapper.start()

    yield start
    for mapper in started:
        mapper.kill()
        mapper.principal.remove()
