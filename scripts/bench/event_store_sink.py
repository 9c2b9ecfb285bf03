"""The sink part of the event-store benchmark (scripts/bench/event_store.py --sink): documents/s through the
managed sink against pymongo insert_many of the same documents into the same store, and produce->queryable latency.

Runs as a team does, on the local cluster of the portal's own database (scripts/dev up): the first owner of the team
``payments`` creates a topic and a SCRAM service account, keeps the topic in the event store (log mode, one indexed
field), and the reconcilers apply all three (topic, credential and ACLs, sink on the Connect worker). Then:

  throughput  N JSON events produced at once by the team's account; the clock stops when the last event of each
              partition is in the store (looked up by its id every 0.2 s: the sink writes a partition in order;
              counting the documents instead would make FerretDB read them all every time), then all N are counted
              once; the figure is what the sink sustains with its defaults (EVENT_STORE_SINK_TASKS,
              EVENT_STORE_LOG_BATCH_SIZE)
  baseline    the same N documents, exactly as the sink stored them (read back), into a new collection of the same
              database: insert_many in batches of the sink's size and of 1,000 (what a team would write by hand), the
              same into a collection with the binding's indexes (what the sink maintains as it writes), and the
              upserts a table's sink writes (bulk ReplaceOne by _id, batches of the sink's size)
  latency     M events paced at R/s; per partition the oldest event not yet seen is looked up by its id (the
              store's _id index) every cycle, and the ones after it while found (the sink writes a partition in
              order): produce call -> queryable, p50/p99; beside it produce call -> consumable by a plain consumer
              (the broker's share)

Everything is removed afterwards (binding and its collection, topic, account), also after a failure; where the
cluster's change policy gates a removal, a platform operator (a superuser) approves the team's request, as the
platform would.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from pymongo import IndexModel, MongoClient, ReplaceOne  # noqa: E402

from onboarding.changes.requests import change_request_approve  # noqa: E402
from onboarding.models import (  # noqa: E402
    AuditEvent,
    ChangeRequest,
    Cluster,
    EventStoreBinding,
    Membership,
    ResourceStatus,
    ServiceAccount,
    Topic,
)
from onboarding.reconcile.access import reconcile_access  # noqa: E402
from onboarding.reconcile.event_store import check_event_store_drift, reconcile_event_store  # noqa: E402
from onboarding.reconcile.event_store_plan import connector_config  # noqa: E402
from onboarding.reconcile.topics import reconcile_cluster  # noqa: E402
from onboarding.services.event_store import event_store_bind, event_store_unbind  # noqa: E402
from onboarding.services.service_accounts import service_account_create, service_account_delete  # noqa: E402
from onboarding.services.topics import topic_create, topic_delete  # noqa: E402

PARTITIONS = 3
WARDS = 100


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise RuntimeError(f"gave up waiting for {what} after {timeout:.0f} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def event(n: int, sent: float) -> dict:
    """~300 bytes, like the query part's documents; ``sent`` is the produce call's wall time."""
    return {"ward": f"W{n % WARDS:02d}", "n": n, "status": "admitted" if n % 3 else "discharged",
            "patient": {"name": f"Patient {n}"}, "note": "x" * 160, "sent": sent}


class SinkRun:
    """The run's topic, account and binding, made through the services and applied by the reconcilers."""

    def __init__(self):
        self.id = uuid.uuid4().hex[:6]
        self.cluster = Cluster.objects.get(name="local")
        owner = Membership.objects.select_related("user", "team").filter(team__slug="payments", role="owner").first()
        if owner is None:
            raise SystemExit("no owner of the team payments in the portal's database: run scripts/dev up first")
        self.actor, self.team = owner.user, owner.team
        self.topic: Topic | None = None
        self.account: ServiceAccount | None = None
        self.binding: EventStoreBinding | None = None

    def set_up(self) -> dict:
        """The topic, the account's producer config and the binding, all applied; returns the producer config."""
        self.topic = topic_create(actor=self.actor, cluster=self.cluster, team=self.team,
                                  name=f"payments.bench-es-{self.id}", partitions=PARTITIONS, replication_factor=1)
        self.account, password = service_account_create(actor=self.actor, cluster=self.cluster, team=self.team,
                                                        name=f"bench-es-{self.id}")
        wait(lambda: self._applied_topic() and self._applied_account(), 120, "the topic and the account", 1)
        self.binding = event_store_bind(actor=self.actor, topic=self.topic, mode="log", indexed_fields=["ward"])
        wait(self._sink_running, 180, "the binding ready and its sink RUNNING", 1)
        return {"bootstrap.servers": os.environ.get("KAFKA_SASL_BOOTSTRAP_SERVERS", "127.0.0.1:19094"),
                "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": self.account.username, "sasl.password": password, "linger.ms": 5,
                "enable.idempotence": True}

    def _applied_topic(self) -> bool:
        reconcile_cluster(self.cluster.pk)
        self.topic.refresh_from_db()
        return self.topic.status == ResourceStatus.READY

    def _applied_account(self) -> bool:
        reconcile_access(self.cluster.pk)
        self.account.refresh_from_db()
        return self.account.status == ResourceStatus.READY

    def _sink_running(self) -> bool:
        reconcile_event_store(self.cluster.pk)
        self.binding.refresh_from_db()
        if self.binding.status == ResourceStatus.READY:
            # The sweep's check reads the sink's state back from the worker (connector and task states).
            check_event_store_drift(self.cluster)
            self.binding.refresh_from_db()
        tasks = self.binding.task_states or []
        return (self.binding.status == ResourceStatus.READY and self.binding.connector_state == "RUNNING"
                and bool(tasks) and all(t["state"] == "RUNNING" for t in tasks))

    def approved(self, outcome):
        """A gated operation's change request approved by a platform operator (four eyes: not the team's owner)."""
        if isinstance(outcome, ChangeRequest):
            operator = get_user_model().objects.filter(is_superuser=True).exclude(pk=self.actor.pk).first()
            if operator is None:
                raise RuntimeError(f"{outcome.title}: gated, and no platform operator to approve it")
            change_request_approve(actor=operator, change_request=outcome, comment="benchmark clean-up",
                                   via=AuditEvent.Via.SYSTEM)
        return outcome

    def tear_down(self) -> None:
        if self.binding is not None:
            self.binding.refresh_from_db()
            if self.binding.status != ResourceStatus.DELETED and not self.binding.wants_deletion:
                self.approved(event_store_unbind(actor=self.actor, binding=self.binding))

            def unbound():
                reconcile_event_store(self.cluster.pk)
                self.binding.refresh_from_db()
                return self.binding.status == ResourceStatus.DELETED
            wait(unbound, 120, "the binding's sink and collection removed", 1)
        if self.topic is not None:
            self.topic.refresh_from_db()
            self.approved(topic_delete(actor=self.actor, topic=self.topic, confirm_name=self.topic.name))

            def deleted():
                reconcile_cluster(self.cluster.pk)
                self.topic.refresh_from_db()
                return self.topic.status == ResourceStatus.DELETED
            wait(deleted, 120, "the topic deleted", 1)
            # The worker made the dead-letter topic itself (on the first record); neither unbinding nor deleting
            # the topic removes it.
            admin = AdminClient({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
            for future in admin.delete_topics([f"{self.topic.name}.dlq"], operation_timeout=30).values():
                try:
                    future.result(30)
                except Exception:  # noqa: BLE001, S110 - none was made when no record reached the sink
                    pass
        if self.account is not None:
            self.account.refresh_from_db()
            self.approved(service_account_delete(actor=self.actor, sa=self.account))
            reconcile_access(self.cluster.pk)


def produce(producer: Producer, topic: str, first: int, count: int, placed: dict[int, tuple[int, int, float]],
            rate: float | None = None, meanwhile=None) -> None:
    """Produce events ``first``..``first+count``; ``placed[n]`` = (partition, offset, produce call's time).
    Paced at ``rate``, ``meanwhile()`` runs while waiting for the next event's turn (the latency's lookups: they
    must run during the pacing, or an early event would count the rest of the pacing as its latency)."""
    sent_at: dict[int, float] = {}
    errors = []

    def report(err, message, n):
        if err is not None:
            errors.append(err)
        else:
            placed[n] = (message.partition(), message.offset(), sent_at[n])
    started = time.perf_counter()
    for i, n in enumerate(range(first, first + count)):
        while rate and (delay := started + i / rate - time.perf_counter()) > 0:
            if meanwhile is not None:
                meanwhile()
            time.sleep(min(delay, 0.01))
        sent_at[n] = time.time()
        while True:
            try:
                producer.produce(topic, key=f"p{n % 5000}".encode(), value=json.dumps(event(n, sent_at[n])).encode(),
                                 on_delivery=lambda err, message, n=n: report(err, message, n))
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    if producer.flush(60) or errors:
        raise RuntimeError(f"produce failed: {errors[:3]}")


def measure(events: int, latency_events: int, latency_rate: float) -> None:
    run = SinkRun()
    client = MongoClient(settings.EVENT_STORE_URI, socketTimeoutMS=600_000, tz_aware=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    try:
        config = run.set_up()
        database = client[run.binding.database_name]
        stored = database[run.binding.collection_name]
        producer = Producer(config)
        placed: dict[int, tuple[int, int, float]] = {}

        started = time.perf_counter()
        produce(producer, run.topic.name, 0, events, placed)
        produced = time.perf_counter() - started
        last = {}
        for partition, offset, _sent in placed.values():
            last[partition] = max(offset, last.get(partition, -1))
        wait(lambda: all(stored.find_one({"_id": f"{run.topic.name}#{p}#{o}"}, {"_id": 1}) for p, o in last.items()),
             900, f"the last of {events} events of each partition in the store", 0.2)
        sink_seconds = time.perf_counter() - started
        count = stored.count_documents({})
        if count != events:
            raise RuntimeError(f"{count} documents in the store for {events} events")
        sink_rate = events / sink_seconds
        log(f"sink: {events} documents in {sink_seconds:.1f} s (produced in {produced:.1f} s)")

        documents = list(stored.find({}))
        sink_batch = int(connector_config(run.binding)["max.batch.size"])
        baseline = {}
        # The binding's indexes, as the reconciler made them on the sink's collection (and, on FerretDB, their GIN
        # companions): what a team writing the same documents by hand for the same queries would maintain too.
        indexes = [IndexModel(list(spec["key"]), name=name) for name, spec in stored.index_information().items()
                   if name != "_id_"]
        for label, batch, indexed, write in (
                (f"insert_many, batches of {sink_batch}", sink_batch, False,
                 lambda copy, part: copy.insert_many(part, ordered=False)),
                ("insert_many, batches of 1000", 1000, False, lambda copy, part: copy.insert_many(part, ordered=False)),
                (f"insert_many, batches of {sink_batch}, into the binding's indexes", sink_batch, True,
                 lambda copy, part: copy.insert_many(part, ordered=False)),
                (f"ReplaceOne upserts by _id as a table's sink writes, batches of {sink_batch}", sink_batch, False,
                 lambda copy, part: copy.bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in part]))):
            copy = database[f"{run.binding.collection_name}-baseline"]
            try:
                if indexed:
                    copy.create_indexes(indexes)
                begun = time.perf_counter()
                for at in range(0, len(documents), batch):
                    write(copy, documents[at:at + batch])
                baseline[label] = len(documents) / (time.perf_counter() - begun)
            finally:
                copy.drop()

        reader = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": f"bench-es-{run.id}",
                           "enable.auto.commit": False, "fetch.wait.max.ms": 10})
        reader.assign([TopicPartition(run.topic.name, p, OFFSET_END) for p in range(PARTITIONS)])
        reader.consume(num_messages=1, timeout=2)  # joins the partitions at their end before the paced events
        # Where each partition's paced events start: right after the throughput phase's last event.
        next_offset = {partition: offset + 1 for partition, offset in last.items()}
        stored_at: dict[tuple[int, int], float] = {}
        consumable_at: dict[tuple[int, int], float] = {}

        def look() -> None:
            for message in reader.consume(num_messages=500, timeout=0):
                if message.error() is None:
                    consumable_at.setdefault((message.partition(), message.offset()), time.time())
            for partition in next_offset:
                while stored.find_one({"_id": f"{run.topic.name}#{partition}#{next_offset[partition]}"}, {"_id": 1}):
                    stored_at[(partition, next_offset[partition])] = time.time()
                    next_offset[partition] += 1

        latency_placed: dict[int, tuple[int, int, float]] = {}
        produce(producer, run.topic.name, events, latency_events, latency_placed, rate=latency_rate, meanwhile=look)

        def all_found():
            look()
            return all((p, o) in stored_at and (p, o) in consumable_at for p, o, _sent in latency_placed.values())
        wait(all_found, 600, f"{latency_events} paced events in the store", 0.01)
        latencies = [stored_at[(p, o)] - sent for p, o, sent in latency_placed.values()]
        consumable = [consumable_at[(p, o)] - sent for p, o, sent in latency_placed.values()]

        print(f"\nsink (tasks {settings.EVENT_STORE_SINK_TASKS}, batch {sink_batch}, "
              f"{PARTITIONS} partitions): {events:,} events produced -> queryable at {sink_rate:,.0f} documents/s")
        for label, rate in baseline.items():
            print(f"baseline: the same {len(documents):,} documents, {label}: {rate:,.0f} documents/s; "
                  f"sink / baseline = {sink_rate / rate:.2f}x")
        print(f"produce -> queryable, {latency_events} events at {latency_rate:g}/s: "
              f"p50 {percentile(latencies, 0.5) * 1000:,.0f} ms, p99 {percentile(latencies, 0.99) * 1000:,.0f} ms, "
              f"max {max(latencies) * 1000:,.0f} ms; produce -> consumable by a plain consumer: "
              f"p50 {percentile(consumable, 0.5) * 1000:,.0f} ms, p99 {percentile(consumable, 0.99) * 1000:,.0f} ms "
              )
        reader.close()
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        try:
            run.tear_down()
        finally:
            client.close()

