"""Run the event gateway: `python manage.py run_gateway [--host H] [--port P] [--grpc-port G] [--grants-topic T]
[--start-timeout S]`.

The REST app (uvicorn) and the gRPC server (grpc.aio) run on one event loop and share one producer. Every Kafka
client of the process (grants reader, producer, consume side) connects as the gateway's own principal
(settings GATEWAY_KAFKA_*), which the access reconciler provisions with exactly the ACLs its grants need.
"""

import asyncio
import contextlib
import logging
import signal

import uvicorn
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from onboarding.gateway.app import Gateway, create_app
from onboarding.gateway.consume import EventReader
from onboarding.gateway.grpc_server import start_grpc_server
from onboarding.gateway.principal import NotProvisioned, event_reader, start_grants_reader
from onboarding.gateway.server import DeliveryProducer
from onboarding.gateway.table import default_grants_topic
from onboarding.gateway.writer_schemas import RegistrySchemas
from onboarding.platform.connection import gateway_kafka_connection
from onboarding.platform.registry import Registry

logger = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn re-raises a captured SIGTERM once it has stopped, which would end the process before the
    producer is flushed; here the signal only asks the server to stop, and the command then cleans up."""

    @contextlib.contextmanager
    def capture_signals(self):
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class Command(BaseCommand):
    help = "Serve the REST produce API (Confluent REST Proxy v3 paths) until SIGTERM/SIGINT, then flush."
    # The data plane needs Kafka and the registry only; skipping the checks keeps it independent of the database.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="address to listen on (default GATEWAY_HOST, 127.0.0.1)")
        parser.add_argument("--port", type=int, default=None, help="port (default GATEWAY_PORT, 8090)")
        parser.add_argument("--grpc-port", type=int, default=None,
                            help="gRPC port (default GATEWAY_GRPC_PORT, 8091; 0 serves no gRPC)")
        parser.add_argument("--grants-topic", default=None, help="compacted topic holding the gateway grants")
        parser.add_argument("--start-timeout", type=float, default=300.0,
                            help="seconds to wait for the access run to provision the gateway principal (300)")

    def handle(self, *args, **options):
        from portal.observability.tracing import configure_tracing

        configure_tracing("portal-gateway", instrument=("requests",))  # spans of registry lookups too
        # The gateway's own principal, never the admin connection: Kafka refuses it whatever no grant allows.
        try:
            connection = gateway_kafka_connection()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        config = connection.client_config()
        grants_topic = options["grants_topic"] or default_grants_topic()
        # The access run creates the grants topic and the principal's credential and ACLs; until it has, wait.
        # Every existing grant is known before the first request is accepted.
        try:
            reader = start_grants_reader(grants_topic, config, timeout=options["start_timeout"],
                                         username=connection.sasl_username)
        except NotProvisioned as exc:
            raise CommandError(str(exc)) from None
        producer = DeliveryProducer(kafka_config=config)
        registry = Registry()
        try:
            producer.start()
            gateway = Gateway(grants=reader.table, producer=producer, schemas=RegistrySchemas(registry))
            # One consume side for REST and gRPC, as the gateway principal too (its default is the admin's).
            events = event_reader(config)
            app = create_app(gateway=gateway, events=events)
            host = options["host"] or settings.GATEWAY_HOST
            port = options["port"] or settings.GATEWAY_PORT
            grpc_port = settings.GATEWAY_GRPC_PORT if options["grpc_port"] is None else options["grpc_port"]
            # On SIGTERM/SIGINT uvicorn stops accepting, lets the requests in flight finish (their records are
            # awaited), then returns here, where the producer is flushed.
            server = _Server(uvicorn.Config(app, host=host, port=port, lifespan="off", log_config=None,
                                                   access_log=False, timeout_graceful_shutdown=30))
            self.stdout.write(f"gateway listening on http://{host}:{port} (grants from {grants_topic}, "
                              f"cluster {producer.cluster_id})")
            asyncio.run(self._serve(server, gateway, events, host=host, grpc_port=grpc_port))
        finally:
            undelivered = producer.close(timeout=30)
            reader.stop()
            registry.close()
        self.stdout.write(f"gateway stopped; {undelivered} records undelivered")

    async def _serve(self, server: _Server, gateway: Gateway, events: EventReader, *, host: str,
                     grpc_port: int) -> None:
        """uvicorn and the gRPC server on one loop; on SIGTERM uvicorn returns, then gRPC stops (calls in flight
        get their grace period), and only then does handle() flush the producer."""
        grpc_server = None
        if grpc_port:
            grpc_server = await start_grpc_server(gateway, host=host, port=grpc_port, events=events)
            self.stdout.write(f"gateway gRPC listening on {host}:{grpc_server.port} (portal.gateway.v1.EventGateway, "
                              "reflection, health)")
        try:
            await server.serve()
        finally:
            if grpc_server is not None:
                await grpc_server.stop(grace=30)
