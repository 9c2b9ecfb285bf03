"""Run the routing data plane: `python manage.py run_router [--group G] [--rules-topic T]`."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from onboarding.platform.compacted import ensure_compacted_topic
from onboarding.platform.connection import default_kafka_connection
from onboarding.routing import metrics
from onboarding.routing.router import Router, default_group_id, default_rules_topic


class Command(BaseCommand):
    help = "Route events from source topics to subscriptions' topics, exactly once, until SIGTERM/SIGINT."
    # The data plane needs Kafka only; skipping the checks keeps it independent of the database.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--group", default=None, help="consumer group of the routers (default portal-router)")
        parser.add_argument("--rules-topic", default=None, help="compacted topic holding the routing rules")

    def handle(self, *args, **options):
        from portal.observability.tracing import configure_tracing

        configure_tracing("portal-router", instrument=("requests",))  # spans of registry lookups too
        if settings.ROUTER_METRICS_PORT:
            metrics.serve(settings.ROUTER_METRICS_PORT)
        connection = default_kafka_connection()
        rules_topic = options["rules_topic"] or default_rules_topic()
        ensure_compacted_topic(connection, rules_topic)

        stop = threading.Event()

        # Only a flag: the loop finishes (or aborts) the batch in hand, then closes the consumer,
        # which leaves the group so the other routers take over its partitions at once.
        def request_stop(signum, _frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        router = Router(group_id=options["group"] or default_group_id(), rules_topic=rules_topic,
                        kafka_config=connection.client_config())
        router.run(stop)
        self.stdout.write(f"router stopped; counters {dict(router.counters)}")
