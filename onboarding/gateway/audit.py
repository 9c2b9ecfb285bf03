"""Every denial of the gateway, audited: a structured log line and a record of the append-only audit topic.

A denial is any refused authentication or authorisation (no or a bad token, a topic the grant does not cover)
and any answer of a token's rate limit. Its record names the request id the caller got (REST ``X-Request-ID``,
gRPC ``x-request-id`` metadata), what was asked and why it was refused, and the token's key id when the
presented token had one (never its secret). The caller's answer stays the same for every reason.

Writing the record is fire-and-forget through the gateway's own producer: a full queue or a failed write is
counted (``portal_gateway_audit_records_dropped``) and logged, never a slower or failed request; the log line
is written either way. The portal's worker copies the topic into its audit trail
(``onboarding/reconcile/gateway_audit.py``) with ``AuditTopicReader``; the record format lives here, beside the
process that writes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
import time
from dataclasses import asdict, dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings

from onboarding.gateway import metrics
from onboarding.gateway.grants import split_bearer
from onboarding.platform.connection import KafkaConnection
from onboarding.platform.kafka_admin import translate

audit_log = logging.getLogger("onboarding.gateway.audit")
logger = logging.getLogger(__name__)
REPLICA = socket.gethostname()


@dataclass(frozen=True)
class Denial:
    at: str  # ISO 8601 UTC, milliseconds: with the request id, what makes an entry unique
    request_id: str
    protocol: str  # rest, grpc
    route: str  # the REST route template or the gRPC method
    action: str  # authenticate, produce, consume
    reason: str  # metrics.GRANT_DECISIONS' reasons, or rate_limited_requests / rate_limited_records
    key_id: str = ""  # the presented token's key id when it had the portal's shape
    principal: str = ""  # the grant's, when the token was valid
    team: str = ""
    topic: str = ""
    status: str = ""  # what the caller was answered (401, 403, 429, UNAUTHENTICATED, …)
    replica: str = REPLICA

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def decode(cls, raw: bytes) -> Denial:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("an audit record is a JSON object")
        known = {name: str(data[name]) for name in cls.__dataclass_fields__ if data.get(name) is not None}
        for name in ("at", "request_id", "protocol", "action", "reason"):
            if not known.get(name):
                raise ValueError(f"an audit record needs {name}")
        return cls(**{"route": "", **known})


def key_id_of(bearer: str) -> str:
    parts = split_bearer(bearer)
    return parts[0][:40] if parts else ""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Auditor:
    """Writes denials: the log line, then the topic record through ``producer`` (a server.DeliveryProducer).

    The topic is looked up before the first write and then every few minutes (in a worker thread, never on the
    event loop): a record for a topic that does not exist would sit in the producer's queue until its timeout
    and hold up the flush at shutdown, so while the topic is missing (before the access run created it) records
    are dropped and counted instead. Records of denials made during a lookup wait for it, at most MAX_WAITING.
    """

    MAX_WAITING = 1000
    RECHECK_PRESENT = 300.0  # seconds: a topic deleted later is noticed then
    RECHECK_MISSING = 30.0

    def __init__(self, producer, topic: str | None = None):
        self.producer = producer
        self.topic = topic if topic is not None else settings.GATEWAY_AUDIT_TOPIC
        self._present: bool | None = None
        self._until = 0.0
        self._waiting: list[Denial] = []
        self._lookup: asyncio.Task | None = None

    def deny(self, denial: Denial) -> None:
        """Log and write one denial; call it on the event loop (the REST routes and the gRPC servicer do)."""
        # The request id is in the message: the log filter of the portal sets the record's own request_id from
        # the context of a Django request, which a gateway call does not have.
        audit_log.warning("gateway denied %s %s: %s (request %s)", denial.action, denial.topic or denial.route,
                          denial.reason, denial.request_id, extra={"audit": asdict(denial)})
        if not self.topic or self.producer is None:
            return
        if self._present is not None and time.monotonic() < self._until:
            if self._present:
                self._write(denial)
            else:
                _dropped(f"topic {self.topic} does not exist", quiet=True)  # warned at the lookup
            return
        if len(self._waiting) < self.MAX_WAITING:
            self._waiting.append(denial)
        else:
            _dropped("too many denials wait for the audit topic's lookup", quiet=True)
        if self._lookup is None:
            self._lookup = asyncio.get_running_loop().create_task(self._look_up())

    async def _look_up(self) -> None:
        try:
            present = await asyncio.to_thread(self.producer.partitions, self.topic) is not None
        except Exception as exc:  # noqa: BLE001 - Kafka away: the records wait in the producer as others do
            logger.warning("gateway audit topic %s not looked up: %s", self.topic, exc)
            present = True
        self._present = present
        self._until = time.monotonic() + (self.RECHECK_PRESENT if present else self.RECHECK_MISSING)
        if not present:
            logger.warning("gateway audit topic %s does not exist: denials are logged only", self.topic)
        waiting, self._waiting, self._lookup = self._waiting, [], None
        for denial in waiting:
            if present:
                self._write(denial)
            else:
                _dropped(f"topic {self.topic} does not exist", quiet=True)

    def _write(self, denial: Denial) -> None:
        try:
            future = self.producer.produce(topic=self.topic, key=denial.request_id.encode("utf-8"),
                                           value=denial.encode(), headers=[])
        except Exception as exc:  # noqa: BLE001 - an audit write never fails the request; it is counted instead
            _dropped(exc)
            return
        future.add_done_callback(_settled)


def _settled(future: asyncio.Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        _dropped(future.exception())


def _dropped(why: BaseException | str, *, quiet: bool = False) -> None:
    metrics.AUDIT_DROPPED.inc()
    logger.log(logging.DEBUG if quiet else logging.WARNING, "gateway audit record not written: %s", why)


# -------------------------------------------------------------------------------------------- the topic
def audit_topic_config() -> dict:
    """A normal topic: records are deleted after the retention (the portal has copied them long before)."""
    return {"cleanup.policy": "delete", "retention.ms": str(settings.GATEWAY_AUDIT_RETENTION_HOURS * 3600 * 1000)}


def ensure_audit_topic(connection: KafkaConnection, topic: str, *, timeout: float = 30.0) -> None:
    """Create the audit topic unless it exists (the access reconciler creates it too, with the cluster's
    replication factor; a gateway started first uses the broker's default)."""
    admin = AdminClient(connection.client_config())
    new = NewTopic(topic, num_partitions=1, replication_factor=-1, config=audit_topic_config())
    try:
        admin.create_topics([new], operation_timeout=timeout)[topic].result(timeout)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise translate(exc, "create topic") from None


class AuditTopicReader:
    """The portal's side: batches of denials from the committed offsets of ``group``, committed only after the
    caller has stored them (``commit``), so a crash between the two reads them again (the ingest is idempotent).

    The partitions are assigned, not subscribed: no group membership, so no rebalance wait on every run; two runs
    at once may read the same records, which the idempotent ingest makes harmless.
    """

    def __init__(self, connection: KafkaConnection, *, topic: str, group: str, timeout: float = 10.0):
        self.topic, self.timeout = topic, timeout
        self._consumer = Consumer({**connection.client_config(), "group.id": group, "enable.auto.commit": False,
                                   "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
                                   "enable.partition.eof": True, "isolation.level": "read_committed"})
        self._positions: dict[int, int] = {}
        self._assigned: set[int] = set()
        self._at_end: set[int] = set()

    def _assign(self) -> None:
        try:
            metadata = self._consumer.list_topics(self.topic, timeout=self.timeout)
            found = metadata.topics.get(self.topic)
            if found is None or found.error is not None:
                return  # no audit topic (yet): nothing was denied through it
            partitions = [TopicPartition(self.topic, p) for p in sorted(found.partitions)]
            committed = self._consumer.committed(partitions, timeout=self.timeout)
        except KafkaException as exc:
            raise translate(exc, f"read {self.topic}") from None
        self._consumer.assign([TopicPartition(self.topic, tp.partition, tp.offset if tp.offset >= 0
                                              else OFFSET_BEGINNING) for tp in committed])
        self._assigned = {tp.partition for tp in committed}

    def read(self, *, max_records: int = 500) -> list[Denial]:
        """Up to ``max_records`` denials; fewer once every partition is at its end. Unreadable records are
        logged and skipped (and committed with the rest): a malformed record must not stop the trail."""
        if not self._assigned:
            self._assign()
        denials: list[Denial] = []
        deadline = time.monotonic() + self.timeout
        while self._assigned - self._at_end and len(denials) < max_records and time.monotonic() < deadline:
            message = self._consumer.poll(min(1.0, max(0.0, deadline - time.monotonic())))
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() == KafkaError._PARTITION_EOF:
                    self._at_end.add(message.partition())
                    continue
                raise translate(KafkaException(message.error()), f"read {self.topic}")
            self._at_end.discard(message.partition())
            self._positions[message.partition()] = message.offset() + 1
            try:
                denials.append(Denial.decode(message.value() or b""))
            except (ValueError, TypeError) as exc:
                logger.warning("gateway audit record %s[%d]@%d skipped: %s", self.topic, message.partition(),
                               message.offset(), exc)
        return denials

    @property
    def caught_up(self) -> bool:
        return self._assigned <= self._at_end

    def commit(self) -> None:
        if self._positions:
            offsets = [TopicPartition(self.topic, partition, offset) for partition, offset in self._positions.items()]
            try:
                self._consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:
                raise translate(exc, f"commit {self.topic}") from None
            self._positions.clear()

    def close(self) -> None:
        self._consumer.close()
