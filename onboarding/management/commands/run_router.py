"""Run the routing data plane: `python manage.py run_router [--group G] [--rules-topic T]`.

Every Kafka client of the process connects as the router's own principal (settings ROUTER_KAFKA_*), never with
the admin connection: Kafka refuses it any topic no routing rule names (reconcile/router_acls.py). The access run
creates the rules topic and provisions the principal; until it has, the router waits (``--provision-timeout``).
"""

import signal
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from onboarding.platform.connection import router_kafka_connection
from onboarding.reconcile.router_acls import own_group_prefix
from onboarding.routing import metrics
from onboarding.routing.principal import NotProvisioned, start_when_provisioned
from onboarding.routing.router import Router, default_group_id, default_rules_topic


class Command(BaseCommand):
    help = "Route events from source topics to subscriptions' topics, exactly once, until SIGTERM/SIGINT."
    # The data plane needs Kafka only; skipping the checks keeps it independent of the database.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--group", default=None, help="consumer group of the routers (default portal-router)")
        parser.add_argument("--rules-topic", default=None, help="compacted topic holding the routing rules")
        parser.add_argument("--provision-timeout", type=float, default=300.0,
                            help="seconds to wait for the access run to provision the router principal (300)")

    def handle(self, *args, **options):
        from portal.observability.tracing import configure_tracing

        # The router's own principal, never the admin connection: Kafka refuses it what no rule names.
        try:
            connection = router_kafka_connection()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        configure_tracing("portal-router", instrument=("requests",))  # spans of registry lookups too
        if settings.ROUTER_METRICS_PORT:
            metrics.serve(settings.ROUTER_METRICS_PORT)
        rules_topic = options["rules_topic"] or default_rules_topic()

        stop = threading.Event()

        # Only a flag: the loop finishes (or aborts) the batch in hand, then closes the consumer,
        # which leaves the group so the other routers take over its partitions at once.
        def request_stop(signum, _frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

        def make_router():
            return Router(group_id=options["group"] or default_group_id(), rules_topic=rules_topic,
                          kafka_config=connection.client_config(),
                          own_group_prefix=own_group_prefix(connection.sasl_username))

        try:
            router = start_when_provisioned(make_router, timeout=options["provision_timeout"],
                                            username=connection.sasl_username)
        except NotProvisioned as exc:
            raise CommandError(str(exc)) from None
        router.serve(stop)
        self.stdout.write(f"router stopped; counters {dict(router.counters)}")
