"""The mapper: turns each event of a mapping's source topic into a canonical event, exactly once.

It follows the mappings table (``table``), consumes the source topics of its rows, decodes each event with the
registry (Avro, JSON Schema, Protobuf or plain JSON, ``routing.decode``), runs the row's compiled mapping, writes
the result with the canonical schema (``encode``) and produces it to the row's target topic, inside the router's
Kafka transactions with the consumer offsets (``routing.transactional``): read_committed readers see every event
of the source once. The table is read between batches only, so a new version replaces the running one at a
batch boundary, without a restart.

An event that cannot be decoded, mapped or encoded goes to the row's dead-letter topic with its original bytes and
headers, and headers saying why (``map.error.*``: the rule index, its target and source path, the message).
Outputs carry ``map.mapping``, ``map.version`` and the source's coordinates; the W3C trace context passes through.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter, defaultdict

from django.conf import settings

from onboarding.mapper import metrics
from onboarding.mapper.encode import CanonicalEncoder, EncodeError
from onboarding.mapper.table import MappingRow, MappingTableReader
from onboarding.mapping.rules import MappingError
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.registry import Registry
from onboarding.routing.decode import DecodeError, SchemaCache, decode_value
from onboarding.routing.metrics import LagTracker
from onboarding.routing.transactional import TransactionalLoop, process_span
from portal.observability import tracing

logger = logging.getLogger(__name__)

# The headers a mapper writes; a source's own headers of these names are not passed on.
TRACE_HEADERS = ("traceparent", "tracestate")
ERROR_HEADERS = ("map.error.rule", "map.error.target", "map.error.source", "map.error.message")


class Mapper(TransactionalLoop):
    what = "mapper"

    def __init__(self, *, group_id: str | None = None, table_topic: str | None = None,
                 kafka_config: dict | None = None, registry=None, transactional_prefix: str | None = None,
                 batch_size: int = 500, poll_timeout: float = 1.0, own_group_prefix: str = ""):
        super().__init__(
            group_id=group_id or settings.MAPPER_GROUP_ID,
            kafka_config=kafka_config if kafka_config is not None else default_kafka_connection().client_config(),
            transactional_prefix=(settings.MAPPER_TRANSACTIONAL_ID_PREFIX if transactional_prefix is None
                                  else transactional_prefix),
            batch_size=batch_size, poll_timeout=poll_timeout,
            transaction_timeout_ms=settings.MAPPER_TRANSACTION_TIMEOUT_MS,
            session_timeout_ms=settings.MAPPER_SESSION_TIMEOUT_MS, liveness=metrics.LIVENESS,
            aborted_metric=metrics.ABORTED)
        self.table_topic = table_topic or settings.MAPPER_TABLE_TOPIC
        self._registry = registry
        self.schemas: SchemaCache | None = None
        self.encoder: CanonicalEncoder | None = None
        # Its own principal may name groups only under this prefix (mapper_acls): the table reader's goes there.
        self.own_group_prefix = own_group_prefix
        self.table: MappingTableReader | None = None
        self.counters: dict[str, Counter] = defaultdict(Counter)  # per mapping id, committed outcomes
        self.lag = LagTracker(self.group_id, metrics.LAG)

    # ---------------------------------------------------------------------------------------- lifecycle
    def start(self, catch_up_timeout: float = 30.0) -> None:
        if self._registry is None:
            self._registry = Registry()
        self.schemas = SchemaCache(self._registry)
        self.encoder = CanonicalEncoder(self.schemas)
        self.table = MappingTableReader(self.table_topic, self.kafka_config, group_id=(
            f"{self.own_group_prefix}table-{uuid.uuid4().hex}" if self.own_group_prefix else None))
        self.table.catch_up(catch_up_timeout)
        self.open_clients()
        self.subscribe(self.table.table.source_topics())
        logger.info("mapper %s ready: group %s, %d mappings", self.transactional_id, self.group_id,
                    len(self.table.table.all()))

    def close(self) -> None:
        self.close_clients()
        if self.table is not None:
            self.table.close()
        if self._registry is not None and hasattr(self._registry, "close"):
            self._registry.close()
        logger.info("mapper %s stopped; counters %s", self.transactional_id, dict(self.counters))

    # ---------------------------------------------------------------------------------------- the loop
    def run_once(self, timeout: float | None = None) -> int:
        """Follow the table (a new version takes over here, between batches), then map one batch; returns how
        many source records it handled."""
        if self.table.poll_changes():
            self.subscribe(self.table.table.source_topics())
        batch = self.poll_batch(self.poll_timeout if timeout is None else timeout)
        if batch:
            self._map_batch(batch)
        self.lag.maybe_refresh(self.consumer)  # between batches: no transaction is open
        return len(batch)

    def _map_batch(self, batch) -> None:
        counts: dict[tuple[str, int], Counter] = defaultdict(Counter)
        started = time.monotonic()

        traced = tracing.enabled()  # once per batch: asked per event it cost a few percent of the loop

        def map_all(messages) -> None:
            for message in messages:
                if traced:
                    with process_span(message, self.group_id):
                        self._map_message(message, counts, traced)
                else:
                    self._map_message(message, counts, traced)

        if not self.commit_batch(batch, map_all):
            return
        for (mapping_id, _version), counter in counts.items():
            self.counters[mapping_id].update(counter)
        metrics.record(counts, time.monotonic() - started)

    def _map_message(self, message, counts, traced: bool) -> None:
        rows = self.table.table.rows_for(message.topic())
        if not rows:
            return
        headers = _passed_headers(message, traced)
        try:
            value, problem = decode_value(message.value(), self.schemas), None
        except DecodeError as exc:  # the event's fault; a registry outage raises PlatformError and redoes the batch
            value, problem = None, {"map.error.message": f"cannot decode the event: {exc}"}
        for row in rows:
            outcome = problem or self._map_one(message, row, value, headers)
            if outcome is None:
                counts[(row.id, row.version)]["mapped"] += 1
            else:
                counts[(row.id, row.version)][self._dead_letter(message, row, headers, outcome)] += 1

    def _map_one(self, message, row: MappingRow, value, headers) -> dict | None:
        """Produce the canonical event; None when done, else the error headers for the dead letter."""
        if row.broken:
            return {"map.error.message": row.broken}
        if not isinstance(value, dict):
            return {"map.error.message": "the event is not an object"}
        try:
            payload = self.encoder.encode(row.target_schema_id, row.compiled(value))
        except MappingError as exc:
            return exc.headers()
        except EncodeError as exc:
            return {"map.error.target": exc.path, "map.error.message": f"canonical schema: {exc.message}"}
        if not self.topic_exists(row.target_topic):
            return {"map.error.message": f"target topic {row.target_topic} does not exist"}
        self.produce(row.target_topic, message.key(), payload, headers + _row_headers(message, row))
        return None

    def _dead_letter(self, message, row: MappingRow, headers, error: dict) -> str:
        error = {name: error.get(name, "") for name in ERROR_HEADERS}
        error["map.error.message"] = error["map.error.message"][:1000]
        if not self.topic_exists(row.dlq_topic):
            logger.error("mapping %s: event %s[%s]@%s dropped (%s); its dead-letter topic %s is missing", row.id,
                         message.topic(), message.partition(), message.offset(), error["map.error.message"],
                         row.dlq_topic)
            return "dropped"
        # The source's bytes and all its own headers, so the event can be replayed as it came once fixed.
        own = [(k, v) for k, v in (message.headers() or []) if not k.startswith("map.") and k not in TRACE_HEADERS]
        self.produce(row.dlq_topic, message.key(), message.value(),
                     own + headers + _row_headers(message, row) + list(error.items()))
        return "failed"


def _passed_headers(message, traced: bool) -> list:
    """The trace context, the span of this mapping's when tracing is on (the source's own headers stay behind:
    they describe the source system's event, not the canonical one)."""
    source = message.headers()
    headers = [(k, v) for k, v in source if k in TRACE_HEADERS] if source else []
    return tracing.headers_with_context(headers) if traced else headers


def _row_headers(message, row: MappingRow) -> list[tuple[str, str]]:
    # The row's own part is the same for every event of its source (row.source_topic is the message's topic).
    return [*row.headers, ("map.source.partition", str(message.partition())),
            ("map.source.offset", str(message.offset()))]
