"""Run the normalization data plane: `python manage.py run_mapper [--group G] [--table-topic T]`.

Every Kafka client of the process connects as the mapper's own principal (settings MAPPER_KAFKA_*), never with
the admin connection: Kafka refuses it any topic no live mapping names (reconcile/mapper_acls.py). The mappings
run creates the table topic and provisions the principal; until it has, the mapper waits (``--provision-timeout``).
"""

import signal
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from onboarding.mapper import metrics as mapper_metrics
from onboarding.mapper.mapper import Mapper
from onboarding.platform.connection import mapper_kafka_connection
from onboarding.reconcile.mapper_acls import own_group_prefix
from onboarding.routing import metrics
from onboarding.routing.principal import NotProvisioned, start_when_provisioned


class Command(BaseCommand):
    help = "Map source events into canonical events, exactly once, until SIGTERM/SIGINT."
    # The data plane needs Kafka and the registry only; skipping the checks keeps it independent of the database.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--group", default=None, help="consumer group of the mappers (default portal-mapper)")
        parser.add_argument("--table-topic", default=None, help="compacted topic holding the mappings table")
        parser.add_argument("--provision-timeout", type=float, default=300.0,
                            help="seconds to wait for the mappings run to provision the mapper principal (300)")

    def handle(self, *args, **options):
        from portal.observability.tracing import configure_tracing

        try:
            connection = mapper_kafka_connection()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        configure_tracing("portal-mapper", instrument=("requests",))  # spans of registry lookups too
        if settings.MAPPER_METRICS_PORT:
            metrics.serve(settings.MAPPER_METRICS_PORT, liveness=mapper_metrics.LIVENESS, what="mapper")

        stop = threading.Event()

        # Only a flag: the loop finishes (or aborts) the batch in hand, then closes the consumer, which leaves the
        # group so the other mappers take over its partitions at once.
        def request_stop(signum, _frame):
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

        def make_mapper():
            return Mapper(group_id=options["group"], table_topic=options["table_topic"],
                          kafka_config=connection.client_config(),
                          own_group_prefix=own_group_prefix(connection.sasl_username))

        try:
            mapper = start_when_provisioned(make_mapper, timeout=options["provision_timeout"],
                                            username=connection.sasl_username, what="mapper",
                                            table="mappings table")
        except NotProvisioned as exc:
            raise CommandError(str(exc)) from None
        mapper.serve(stop)
        self.stdout.write(f"mapper stopped; counters {dict(mapper.counters)}")
