"""The router: copies events from source topics to subscribers' topics, exactly once.

The transaction loop (consume, produce, commit the offsets in the same Kafka transaction; abort and rewind on a
revocation or an error) is ``transactional.TransactionalLoop``; this module adds the rules and what each event
becomes: a copy for every rule that matches, a dead letter for every rule that fails.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections import Counter, defaultdict

from django.conf import settings

from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.registry import Registry
from onboarding.routing import metrics, traffic
from onboarding.routing.decode import DecodeError, SchemaCache, decode_value
from onboarding.routing.liveness import LIVENESS
from onboarding.routing.rule_index import Outcome, SourceIndex
from onboarding.routing.rules import Rule, RulesTableReader
from onboarding.routing.transactional import TransactionalLoop, process_span
from portal.observability import tracing

logger = logging.getLogger(__name__)

ROUTE_HEADERS = ("route.source.topic", "route.source.partition", "route.source.offset", "route.subscription",
                 "route.error")
# Up to this many subscriptions' counts are published after every batch; more, at most every few seconds.
COUNTS_PER_BATCH_LIMIT = 50
COUNTS_PUBLISH_SECONDS = 2.0


def default_rules_topic() -> str:
    # The one setting the access reconciler writes rules to (declared in portal/settings.py).
    return settings.ROUTER_RULES_TOPIC


def default_group_id() -> str:
    return settings.ROUTER_GROUP_ID


def default_kafka_config() -> dict:
    return default_kafka_connection().client_config()


class Router(TransactionalLoop):
    what = "router"

    def __init__(self, *, group_id: str | None = None, rules_topic: str | None = None,
                 kafka_config: dict | None = None, registry=None, transactional_prefix: str | None = None,
                 batch_size: int = 500, poll_timeout: float = 1.0, own_group_prefix: str = ""):
        # Under ROUTER_TRANSACTIONAL_ID_PREFIX: the router's own principal may use those transactional ids only.
        super().__init__(
            group_id=group_id or default_group_id(),
            kafka_config=kafka_config if kafka_config is not None else default_kafka_config(),
            transactional_prefix=(settings.ROUTER_TRANSACTIONAL_ID_PREFIX if transactional_prefix is None
                                  else transactional_prefix),
            batch_size=batch_size, poll_timeout=poll_timeout,
            transaction_timeout_ms=settings.ROUTER_TRANSACTION_TIMEOUT_MS,
            session_timeout_ms=settings.ROUTER_SESSION_TIMEOUT_MS, liveness=LIVENESS, aborted_metric=metrics.ABORTED)
        self.rules_topic = rules_topic or default_rules_topic()
        self._registry = registry
        self.schemas: SchemaCache | None = None
        # Its own principal may name groups only under this prefix (router_acls): the rules reader's goes there.
        self.own_group_prefix = own_group_prefix
        self.counters: dict[str, Counter] = defaultdict(Counter)
        self.lag = metrics.LagTracker(self.group_id)
        self.rules: RulesTableReader | None = None
        self._plans: dict[str, _Plan] = {}
        self._unpublished: dict[str, Counter] = defaultdict(Counter)
        self._published_at = 0.0

    # ---------------------------------------------------------------------------------------- lifecycle
    def start(self, catch_up_timeout: float = 30.0) -> None:
        if self._registry is None:
            self._registry = Registry()
        self.schemas = SchemaCache(self._registry)
        self.rules = RulesTableReader(self.rules_topic, self.kafka_config, group_id=(
            f"{self.own_group_prefix}rules-{uuid.uuid4().hex}" if self.own_group_prefix else None))
        self.rules.catch_up(catch_up_timeout)
        self.open_clients()
        self._resubscribe()
        logger.info("router %s ready: group %s, %d rules", self.transactional_id, self.group_id,
                    len(self.rules.table.all()))

    def close(self) -> None:
        if self.producer is not None and self._in_transaction:
            self._abort()
        self._publish_counts(now=True)
        self.close_clients()
        if self.rules is not None:
            self.rules.close()
        if self._registry is not None and hasattr(self._registry, "close"):
            self._registry.close()
        logger.info("router %s stopped; counters %s", self.transactional_id, dict(self.counters))

    # ---------------------------------------------------------------------------------------- the loop
    def run_once(self, timeout: float | None = None) -> int:
        """Follow rule changes, then route one batch; returns how many source records it handled."""
        timeout = self.poll_timeout if timeout is None else timeout
        if self.rules.poll_changes():
            self._resubscribe()
        batch = self.poll_batch(timeout)
        if batch:
            self._route_batch(batch)
        self.lag.maybe_refresh(self.consumer)  # between batches: no transaction is open
        self._publish_counts()  # what a quiet spell would otherwise hold back
        return len(batch)

    def _resubscribe(self) -> None:
        self.subscribe(self.rules.table.source_topics())

    # ---------------------------------------------------------------------------------------- a batch
    def _route_batch(self, batch) -> None:
        counts: dict[str, Counter] = defaultdict(Counter)
        started = time.monotonic()
        self._plans = {}

        def route(messages) -> None:
            for message in messages:
                self._route_message(message, counts)
            self._count_filtered_out(counts)

        if not self.commit_batch(batch, route):
            return
        for subscription, counter in counts.items():
            self.counters[subscription].update(counter)
            self._unpublished[subscription].update(counter)
        metrics.record_batch(batch, time.monotonic() - started)
        self._publish_counts()

    def _publish_counts(self, *, now: bool = False) -> None:
        """Add the committed counts to Redis and the metrics (only committed work: retried batches count once).

        A few subscriptions: after every batch. Many (every rule of a source counts the events it filtered out):
        at most every COUNTS_PUBLISH_SECONDS, so the cost follows the number of rules per second, not per batch.
        """
        if not self._unpublished:
            return
        if not now and len(self._unpublished) > COUNTS_PER_BATCH_LIMIT and (
                time.monotonic() - self._published_at < COUNTS_PUBLISH_SECONDS):
            return
        counts, self._unpublished = self._unpublished, defaultdict(Counter)
        self._published_at = time.monotonic()
        traffic.record_counts(counts)
        metrics.record_events(counts)

    def _route_message(self, message, counts) -> None:
        plan = self._plan_for(message.topic())
        if not plan.index.rules:
            return
        plan.events += 1
        if not tracing.enabled():
            self._apply_rules(message, plan, counts)
            return
        # The producer's traceparent header makes this span (and so each copy's header) part of its trace.
        with process_span(message, self.group_id):
            self._apply_rules(message, plan, counts)

    def _plan_for(self, topic: str) -> _Plan:
        """The source's rule index and, once per batch rather than per event, its rules that dead-letter
        everything (a filter that does not compile, a destination topic that does not exist)."""
        plan = self._plans.get(topic)
        if plan is None:
            index = self.rules.table.index_for(topic)
            dead = []
            for position, rule in enumerate(index.rules):
                if rule.broken:
                    dead.append(Outcome(position, rule, _DeadLetter(rule.broken)))
                elif not self.topic_exists(rule.destination_topic):
                    dead.append(Outcome(position, rule, _DeadLetter(
                        f"destination topic {rule.destination_topic} does not exist")))
            plan = self._plans[topic] = _Plan(index, dead)
        return plan

    def _apply_rules(self, message, plan: _Plan, counts) -> None:
        headers = [(k, v) for k, v in (message.headers() or []) if not k.startswith("route.")]
        if tracing.enabled():
            headers = tracing.headers_with_context(headers)
        event = _Event(message, self.schemas)
        outcomes = plan.index.match(event.value, event.text_headers(), event.text_key())
        if plan.dead:
            outcomes = sorted([*plan.dead, *(o for o in outcomes if o.position not in plan.dead_positions)],
                              key=lambda outcome: outcome.position)
        for outcome in outcomes:
            rule = outcome.rule
            if outcome.error is None:
                self._produce(rule.destination_topic, message, headers + _route_headers(message, rule))
                counts[rule.subscription_id]["routed"] += 1
                continue
            reason = str(outcome.error) or type(outcome.error).__name__
            if not self.topic_exists(rule.dead_letter_topic):
                logger.error("subscription %s: event %s[%s]@%s dropped (%s); its dead-letter topic %s is missing",
                             rule.subscription_id, message.topic(), message.partition(), message.offset(),
                             reason, rule.dead_letter_topic)
                counts[rule.subscription_id]["dropped"] += 1
                continue
            self._produce(rule.dead_letter_topic, message,
                          headers + _route_headers(message, rule) + [("route.error", reason[:1000])])
            counts[rule.subscription_id]["dead_lettered"] += 1

    def _count_filtered_out(self, counts) -> None:
        # Every rule of a source sees every event of the batch, and rules only change between batches: what
        # a rule did not route, dead-letter or drop, its filter left out. Counted per batch, not per event.
        for plan in self._plans.values():
            if not plan.events:
                continue
            for rule in plan.index.rules:
                done = counts.get(rule.subscription_id)
                handled = (done["routed"] + done["dead_lettered"] + done["dropped"]) if done else 0
                if plan.events > handled:
                    counts[rule.subscription_id]["filtered_out"] += plan.events - handled

    def _produce(self, topic, message, headers) -> None:
        # The original key and value bytes: routing copies, it never re-encodes.
        self.produce(topic, message.key(), message.value(), headers)


class _Event:
    """One source record, decoded at most once however many rules look at it."""

    _UNSET = object()

    def __init__(self, message, schemas):
        self.message, self.schemas = message, schemas
        self._value = self._UNSET
        self._error: DecodeError | None = None

    def value(self):
        if self._error is not None:
            raise self._error
        if self._value is self._UNSET:
            try:
                self._value = decode_value(self.message.value(), self.schemas)
            except DecodeError as exc:
                self._error = exc
                raise
        return self._value

    # Cached: with many rules on one source, every rule's filter reads the same event.
    @functools.cached_property
    def _headers(self) -> dict[str, str]:
        return {k: (v or b"").decode("utf-8", errors="replace") for k, v in (self.message.headers() or [])}

    @functools.cached_property
    def _key(self) -> str | None:
        key = self.message.key()
        return None if key is None else key.decode("utf-8", errors="replace")

    def text_headers(self) -> dict[str, str]:
        return self._headers

    def text_key(self) -> str | None:
        return self._key


def _route_headers(message, rule: Rule) -> list[tuple[str, str]]:
    return [("route.source.topic", message.topic()), ("route.source.partition", str(message.partition())),
            ("route.source.offset", str(message.offset())), ("route.subscription", rule.subscription_id)]


class _Plan:
    """One source topic within one batch: its rule index, its rules that dead-letter every event, events seen."""

    def __init__(self, index: SourceIndex, dead: list[Outcome]):
        self.index, self.dead = index, dead
        self.dead_positions = {outcome.position for outcome in dead}
        self.events = 0


class _DeadLetter(Exception):
    pass
