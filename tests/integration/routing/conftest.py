"""Helpers for routing tests on the real broker: unique topics, rules, events, routers and readers."""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from django.conf import settings

from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import router_acls
from onboarding.routing.rules import Rule, rule_delete, rule_upsert
from tests.fixtures.waiting import wait_for
from tests.fixtures.workers import FAST_ROUTER_ENV

REPO = Path(__file__).resolve().parents[3]
LOG_DIR = REPO / ".stack" / "logs"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def routing_topics(make_topic):
    """make(stem, partitions=1, compact=False) -> a unique `routing.<stem>-<hex8>` topic, deleted afterwards."""

    def make(stem: str, partitions: int = 1, compact: bool = False) -> str:
        return make_topic(f"routing.{stem}-{uuid.uuid4().hex[:8]}", partitions,
                          {"cleanup.policy": "compact"} if compact else None)

    return make


@pytest.fixture
def producer():
    p = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "acks": "all"})
    yield p
    p.flush(10)


@pytest.fixture
def topics(routing_topics):
    """The usual set: a source, a destination, a dead-letter topic and a compacted rules topic."""
    return {"src": routing_topics("src"), "dst": routing_topics("dst"), "dlq": routing_topics("dlq"),
            "rules": routing_topics("rules", compact=True)}


def make_rule(subscription_id, source, destination, dead_letter, filter=None, enabled=True) -> Rule:
    return Rule(subscription_id=subscription_id, source_topic=source, destination_topic=destination,
                filter=filter, dead_letter_topic=dead_letter, enabled=enabled)


def upsert(producer, rules_topic, rule):
    rule_upsert(producer, rules_topic, rule)


def delete(producer, rules_topic, subscription_id):
    rule_delete(producer, rules_topic, subscription_id)


def produce_events(producer, topic, events, *, headers=None, raw=False, partition=None):
    """Produce JSON (or, with raw=True, byte) values with keys k<i>; waits for the broker's acks."""
    for i, event in enumerate(events):
        value = event if raw else json.dumps(event).encode()
        kwargs = {"partition": partition} if partition is not None else {}
        producer.produce(topic, key=f"k{i}".encode(), value=value, headers=headers, **kwargs)
        producer.poll(0)
    assert producer.flush(30) == 0


def _record(message) -> dict:
    headers = {k: (v or b"").decode() for k, v in (message.headers() or [])}
    return {"key": message.key(), "value": message.value(), "headers": headers, "partition": message.partition(),
            "offset": message.offset()}


def read_committed(topic, *, expect: int, timeout: float = 60, settle: float = 2.0,
                   isolation: str = "read_committed") -> list[dict]:
    """Every committed record of ``topic``, read until ``expect`` are seen plus ``settle`` quiet seconds
    (so that extra records, i.e. duplicates, would also be seen). Returns what was read by the deadline."""
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": f"reader-{uuid.uuid4()}",
                         "enable.auto.commit": False, "isolation.level": isolation})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records, deadline, last_new = [], time.monotonic() + timeout, time.monotonic()
        while time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=0.5):
                if message.error() is None:
                    records.append(_record(message))
                    last_new = time.monotonic()
            if len(records) >= expect and time.monotonic() - last_new >= settle:
                break
        return records
    finally:
        consumer.close()


def source_offsets(records) -> list[tuple[int, int]]:
    return [(int(r["headers"]["route.source.partition"]), int(r["headers"]["route.source.offset"]))
            for r in records]


class RouterThread:
    """The Router in this process: quick to start, and its rules table can be inspected (``process``: another
    process on the same transaction loop, the mapper)."""

    def __init__(self, group, rules_topic, *, process=None):
        from onboarding.routing.router import Router

        self.router = process or Router(group_id=group, rules_topic=rules_topic)
        self.stop_event, self.ready = threading.Event(), threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.router.run(self.stop_event, self.ready)
        except BaseException as exc:  # surfaced by stop(): a router that dies fails the test
            self.errors.append(exc)
            self.ready.set()

    def start(self):
        self.thread.start()
        assert self.ready.wait(60), "router did not load its rules within 60s"
        assert not self.errors, self.errors

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "router did not stop within 30s"
        assert not self.errors, self.errors


def started_threads(make):
    """A fixture's body: ``start(group, table_topic)`` gives a started ``make(group, table_topic)`` (RouterThread
    or the mapper's), each stopped at the end."""
    started = []

    def start(group, table_topic):
        thread = make(group, table_topic)
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        if thread.thread.is_alive():
            thread.stop()


@pytest.fixture
def router_thread():
    yield from started_threads(RouterThread)


class TestRouterPrincipal:
    """A router principal of the test's own (run_router refuses to start without one). These tests write rules
    straight to their rules topic, with no access run to plan the principal's ACLs from them: it may read and
    write the tests' ``routing.`` topics, and use its group, its own groups and its transactional ids."""

    def __init__(self, group: str, rules_topic: str):
        self.username = f"portal-router.t{uuid.uuid4().hex[:10]}"
        self.password = secrets.token_urlsafe(24)
        principal = router_acls.principal_of(self.username)
        self.acls = router_acls.planned(principal, [], rules_topic=rules_topic, group_id=group,
                                        transactional_id_prefix=settings.ROUTER_TRANSACTIONAL_ID_PREFIX)
        self.acls |= {AclSpec("TOPIC", "routing.", "PREFIXED", principal, operation)
                      for operation in ("READ", "WRITE", "DESCRIBE")}
        self._admin = None

    def provision(self) -> dict[str, str]:
        """Set the credential and the ACLs; the environment run_router connects with."""
        self._admin = KafkaAcls(default_kafka_connection())
        assert self._admin.alter_scram(upserts={self.username: self.password})[self.username] is None
        assert not any(self._admin.create_acls(self.acls).values())
        return {"ROUTER_KAFKA_USERNAME": self.username, "ROUTER_KAFKA_PASSWORD": self.password,
                "ROUTER_KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"]}

    def remove(self) -> None:
        if self._admin is not None:
            self._admin.delete_acls(self.acls)
            self._admin.alter_scram(deletes=[self.username])


def held_commit_command(*arguments: str) -> list[str]:
    """A manage.py command run through ``held_commit``: unchanged until its hold file is touched."""
    return [sys.executable, "-m", "tests.integration.routing.held_commit", *arguments]


class RouterProcess:
    """`manage.py run_router` in its own process group, to be stopped gracefully or killed hard, or killed inside
    a transaction (the mapper's tests run `run_mapper` the same way: ``fast_env`` and ``ready_line`` are what
    differ)."""

    fast_env = FAST_ROUTER_ENV
    ready_line = r"router \S+ ready"

    def __init__(self, group, rules_topic):
        self.log_path = LOG_DIR / f"test-router-{uuid.uuid4().hex[:8]}.log"
        self.command = held_commit_command("run_router", "--group", group, "--rules-topic", rules_topic)
        self.process = None
        self.principal = TestRouterPrincipal(group, rules_topic)

    @property
    def hold_commit_file(self) -> Path:
        """Touched, the next batch stops before its commit (``held_commit``): see ``kill_inside_transaction``."""
        return self.log_path.with_suffix(".hold")

    def start(self, timeout: float = 60):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.fast_env, **self.principal.provision(),
               "HOLD_COMMIT_FILE": str(self.hold_commit_file)}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.wait_log(self.ready_line, timeout)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 60):
        def seen():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.command[3]} exited with {self.process.returncode}:\n"
                                     f"{self.log()[-3000:]}")
            return re.search(pattern, self.log())

        return wait_for(seen, timeout=timeout, message=f"/{pattern}/ in {self.log_path}")

    def kill(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 30) -> int:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"router ignored SIGTERM for {timeout}s:\n{self.log()[-3000:]}") from None
        return self.process.returncode


@pytest.fixture
def router_process():
    started = []

    def start(group, rules_topic) -> RouterProcess:
        router = RouterProcess(group, rules_topic)
        started.append(router)
        return router.start()

    yield start
    for router in started:
        router.kill()
        router.principal.remove()


class EventStream(threading.Thread):
    """Produces ``count`` small JSON events {"n", "ward"} at about ``rate`` per second, in the background,
    remembering where each landed so tests can compare the destination with the source."""

    def __init__(self, topic, count, *, rate=400, ward=lambda n: "ICU" if n % 2 == 0 else "Cardio"):
        super().__init__(daemon=True)
        self.topic, self.count, self.rate, self.ward = topic, count, rate, ward
        self.delivered: dict[tuple[int, int], dict] = {}
        self.failures = []

    def run(self):
        producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "acks": "all", "linger.ms": 5})
        started = time.monotonic()
        for n in range(self.count):
            event = {"n": n, "ward": self.ward(n)}

            def report(err, msg, event=event):
                if err:
                    self.failures.append(err)
                else:
                    self.delivered[(msg.partition(), msg.offset())] = event

            producer.produce(self.topic, key=f"k{n}".encode(), value=json.dumps(event).encode(), on_delivery=report)
            producer.poll(0)
            ahead = n / self.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
        producer.flush(30)

    def finish(self, timeout=60):
        self.join(timeout)
        assert not self.is_alive(), "event stream did not finish"
        assert not self.failures, self.failures[:3]
        assert len(self.delivered) == self.count
        return self.delivered


def kill_inside_transaction(process: RouterProcess, topic: str, timeout: float = 60) -> None:
    """SIGKILL the process (run through ``held_commit``) with records of an open transaction on ``topic``'s
    broker: the read_committed end, the last stable offset, lags the log end."""
    process.hold_commit_file.touch()
    held = Path(f"{process.hold_commit_file}.held")
    wait_for(held.exists, timeout=timeout, message=f"a batch of {process.command[3]} to be held before its commit")
    consumers = [Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": f"probe-{uuid.uuid4()}",
                           "isolation.level": isolation}) for isolation in ("read_uncommitted", "read_committed")]
    try:
        partitions = consumers[0].list_topics(topic, timeout=10).topics[topic].partitions
        ends = [[c.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)[1] for p in partitions]
                for c in consumers]
    finally:
        for consumer in consumers:
            consumer.close()
    process.kill()
    assert any(log_end > stable for log_end, stable in zip(*ends, strict=True)), (
        f"no open transaction on {topic} (log ends {ends[0]}, stable offsets {ends[1]})")
