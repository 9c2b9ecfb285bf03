"""The World's aggregations: payments' hourly totals of its own private topic, of its public topic (which everyone
may see), and of a private topic of research that payments reads through an approved subscription. Made through
the services (``matrix_support.World`` inherits them).

A preview asks the aggregation engine, which the local stack does not run: the World answers in its place on a
port of its own (``AGGREGATOR_URL`` points there while the World lives), with no windows, so that a preview
allowed to a role answers 200; who may ask is decided before the engine is asked."""

from __future__ import annotations

import json
import threading
import uuid
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.test.utils import override_settings

from onboarding.models import Aggregation, AuditEvent, Subscription, Topic
from onboarding.services.aggregations import aggregation_create
from onboarding.services.subscriptions import subscription_approve, subscription_request

SYSTEM = AuditEvent.Via.SYSTEM
# A definition valid over ORDER_V1 (id, amount), the value schema of the World's private topic.
MEASURES = [{"name": "orders", "op": "count"}, {"name": "amount_total", "op": "sum", "field": "value.amount"}]
DEFINITION = {"window_type": "tumbling", "size": "1h", "grace": "1m", "group_by": "value.id", "measures": MEASURES}
EVENTS = [{"value": {"id": "o-1", "amount": 12}, "timestamp_ms": 1_765_000_000_000}]


def _unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


class _EngineAnswer(BaseHTTPRequestHandler):
    """``POST /preview``: no windows (the engine's answer to a definition it accepts); nothing else."""

    def do_POST(self):  # noqa: N802 - the handler's protocol
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"results": [], "late": []}).encode() if self.path == "/preview" else b"{}"
        self.send_response(200 if self.path == "/preview" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class AggregationObjects:
    """Mixed into ``World``: expects ``cluster``, ``payments``, ``research``, ``users``, ``alice``,
    ``private_topic``, ``public_topic``, ``payments_account`` and ``topic()`` from it."""

    @cached_property
    def preview_engine(self) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _EngineAnswer)
        threading.Thread(target=server.serve_forever, daemon=True, name="matrix-preview-engine").start()
        self._engine_url = override_settings(AGGREGATOR_URL=f"http://127.0.0.1:{server.server_address[1]}")
        self._engine_url.enable()
        return server

    def stop_preview_engine(self) -> None:
        if "preview_engine" in self.__dict__:
            self._engine_url.disable()
            self.preview_engine.shutdown()
            self.preview_engine.server_close()

    def _aggregation(self, source: Topic, stem: str) -> Aggregation:
        name = _unique(stem)
        return aggregation_create(actor=self.alice, team=self.payments, name=name, source=source,
                                  output_topic=f"payments.{name}", via=SYSTEM, **DEFINITION)

    @cached_property
    def aggregation(self) -> Aggregation:
        """Of payments' private topic: its team and operators see it, nobody else."""
        return self._aggregation(self.private_topic, "totals")

    @cached_property
    def public_aggregation(self) -> Aggregation:
        """Of payments' public topic: everyone may see it (as they see its source); only payments changes it."""
        return self._aggregation(self.public_topic, "public-totals")

    @cached_property
    def research_secret(self) -> Topic:
        """A private topic of research, which payments reads through a subscription research approved."""
        topic = self.topic(self.research, self.users["robin"], "secret", Topic.Visibility.PRIVATE)
        # Only an operator may ask on payments' behalf: payments cannot see a private topic of research.
        sub = subscription_request(actor=self.users["olivia"], subscriber=self.payments, source=topic,
                                   service_account=self.payments_account, mode=Subscription.Mode.DIRECT,
                                   reason="Fraud totals", via=SYSTEM)
        subscription_approve(actor=self.users["robin"], subscription=sub, comment="For fraud totals", via=SYSTEM)
        return topic

    @cached_property
    def subscribed_aggregation(self) -> Aggregation:
        """payments' aggregation of research's private topic: payments and operators see it; clinical does not."""
        return self._aggregation(self.research_secret, "fraud-totals")
