"""The portal's own processes for the acceptance tier, started the way people start them.

Two web servers on one fresh database: `manage.py runserver` with the environment `scripts/dev up`
gives it (development), and gunicorn as the image's entry point runs it (production settings behind a
TLS-terminating proxy). One Celery worker, `celery beat`, `manage.py run_router` and `run_mapper` serve
both. They use a Redis database of their own, a rules topic and router group and a mappings table and mapper
group of their own, so neither the in-process suite's worker nor a developer's `scripts/dev up` ever takes
their work.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.acceptance.processes import (
    LOG_DIR,
    PYTHON,
    REPO,
    Database,
    Process,
    free_port,
    manage,
    redis_url,
    wait_ready,
    wait_worker,
)
from tests.fixtures import jaeger
from tests.fixtures.workers import FAST_ROUTER_ENV
from tests.fixtures.workers import FAST_TIMINGS as WORKER_TIMINGS

# The engine's and the mapper's principals (credential and ACLs; an access run sets both, and creates the mappings
# table) and both engine tables, as the worker's runs make them (a shell script).
PROVISION_AGGREGATOR = ("from onboarding.models import Cluster\n"
                        "from onboarding.reconcile.access import reconcile_access\n"
                        "from onboarding.reconcile.aggregations import reconcile_aggregations\n"
                        "for cluster in Cluster.objects.filter(is_active=True):\n"
                        "    print(cluster.name, reconcile_access(cluster.pk).errors,"
                        " reconcile_aggregations(cluster.pk).errors)")
# The aggregation engine's launcher (aggregator/, Kafka Streams); the stack starts it when it is there.
# ACCEPTANCE_AGGREGATOR_LAUNCHER runs another build of the engine (a launcher of the same environment).
AGGREGATOR_LAUNCHER = Path(os.environ.get("ACCEPTANCE_AGGREGATOR_LAUNCHER") or REPO / "scripts" / "aggregator")

# Retries, claim leases and sweeps within seconds, and a router and a mapper whose transactions and sessions are
# short (the mapper shares the router's loop), so a reconcile or a rebalance never takes minutes (the in-process
# suite's timings; no test mail server here).
FAST_TIMINGS = {**WORKER_TIMINGS, **FAST_ROUTER_ENV,
                **{name.replace("ROUTER_", "MAPPER_"): value for name, value in FAST_ROUTER_ENV.items()}}
# Variables of the test process that must not leak into the portal's processes.
NOT_INHERITED = ("PYTEST_CURRENT_TEST", "DJANGO_TEST_DATABASE_NAME", "TEST_REDIS_DB", "DJANGO_SETTINGS_MODULE",
                 "EMAIL_HOST", "EMAIL_PORT", "DJANGO_ALLOW_ASYNC_UNSAFE")
# Where the access reconciler (the worker) publishes routing rules; the router reads ROUTER_RULES_TOPIC.
RULES_TOPIC_PROBE = "from onboarding.reconcile.access import rules_topic; print(rules_topic())"
# What a TLS-terminating proxy in front of gunicorn adds to every request it forwards.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass
class Server:
    """A web server of the portal under test: where it listens, and what every request to it carries."""

    name: str
    url: str
    headers: dict[str, str]


class AcceptanceStack:
    """The database, the processes of the README (web, worker, beat, router, mapper, gateway) and gunicorn;
    `start()` returns when all are ready."""

    def __init__(self, run: str):
        self.run = run
        self.database = Database(f"acceptance_{run}")
        self.redis_db = int(os.environ.get("ACCEPTANCE_REDIS_DB", "9"))
        self.broker = redis_url(self.redis_db)
        self.rules_topic = f"_portal.routing-rules.acceptance-{run}"
        self.router_group = f"portal-router-acceptance-{run}"
        self.grants_topic = f"_portal.gateway-grants.acceptance-{run}"
        self.static_root = REPO / ".stack" / "acceptance" / run / "staticfiles"
        self.processes: list[Process] = []
        self.log_dir = LOG_DIR
        # One secret for every process: the worker decrypts the passwords that either web server encrypted.
        self.secret_key = secrets.token_urlsafe(48)
        self.worker_rules_topic = ""  # where the worker publishes routing rules, probed at start
        self.runserver: Server | None = None
        self.metrics_urls: dict[str, str] = {}  # process -> its Prometheus page, once started
        self.gunicorn: Server | None = None
        # Chosen now: the portal's pages name the gateway's address (GATEWAY_PUBLIC_URL).
        self.gateway_port = free_port()
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.gateway_grpc_port = free_port()  # and its gRPC address (GATEWAY_PUBLIC_GRPC_URL)
        # The aggregation engine (scripts/aggregator): its HTTP port (AGGREGATOR_URL, the preview), its own tables.
        self.aggregator_port = free_port()
        self.aggregator_url = f"http://127.0.0.1:{self.aggregator_port}"
        self.env = self._development_env()

    def _development_env(self) -> dict[str, str]:
        """What `scripts/dev up` exports (the stack's env file is already in ours), on this run's database."""
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        env.update(FAST_TIMINGS)
        env.update({
            "DATABASE_URL": self.database.url,
            "REDIS_URL": self.broker,
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_DEBUG": "true",
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            "ROUTER_RULES_TOPIC": self.rules_topic,
            "ROUTER_GROUP_ID": self.router_group,
            "GATEWAY_GRANTS_TOPIC": self.grants_topic,
            "GATEWAY_PUBLIC_URL": self.gateway_url,
            "GATEWAY_PUBLIC_GRPC_URL": f"grpc://127.0.0.1:{self.gateway_grpc_port}",
            # The gateway's own principal, as `scripts/dev up` gives it: the run's worker provisions it, the
            # gateway connects as it. Named with the run's marker, so the clean-up removes it and its ACLs.
            "GATEWAY_KAFKA_USERNAME": f"portal-gateway.acc{self.run}",
            "GATEWAY_KAFKA_PASSWORD": secrets.token_urlsafe(24),
            "GATEWAY_KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"],
            # The router's own principal, the same way: the worker provisions it from the run's routed subscriptions.
            "ROUTER_KAFKA_USERNAME": f"portal-router.acc{self.run}",
            "ROUTER_KAFKA_PASSWORD": secrets.token_urlsafe(24),
            "ROUTER_KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"],
            # The mapper's, the same way, with a table and group of the run's (the marker in the table's name: the
            # clean-up deletes it). The worker's mappings runs publish the rows and grant their topics.
            "MAPPER_TABLE_TOPIC": f"_portal.mappings.acc{self.run}",
            "MAPPER_GROUP_ID": f"portal-mapper-acc{self.run}",
            "MAPPER_KAFKA_USERNAME": f"portal-mapper.acc{self.run}",
            "MAPPER_KAFKA_PASSWORD": secrets.token_urlsafe(24),
            "MAPPER_KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"],
            # The run's denials go to an audit topic of its own (the marker in its name: the clean-up deletes it),
            # read by a group of its own: a developer's portal neither imports them nor loses its own to this run.
            "GATEWAY_AUDIT_TOPIC": f"_portal.gateway-audit.acc{self.run}",
            "GATEWAY_AUDIT_GROUP": f"portal-gateway-audit-acc{self.run}",
        })
        env.update({
            # The aggregation engine's tables and principal, like the gateway's: the worker writes the definitions
            # and provisions the principal, the engine runs as it and answers the portal's previews.
            "AGGREGATIONS_TOPIC": f"_portal.aggregations.acceptance-{self.run}",
            "AGGREGATIONS_STATUS_TOPIC": f"_portal.aggregations-status.acceptance-{self.run}",
            "AGGREGATIONS_STATUS_SECONDS": "2",
            "AGGREGATOR_URL": self.aggregator_url,
            "AGGREGATOR_KAFKA_USERNAME": f"portal-aggregator.acc{self.run}",
            "AGGREGATOR_KAFKA_PASSWORD": secrets.token_urlsafe(24),
            "AGGREGATOR_KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"],
        })
        env.update({
            # Every process exports its spans to the stack's Jaeger (test_tracing.py reads them back from it),
            # batched for a fifth of a second rather than five. Until Jaeger is up (a first build runs in the
            # background), the exporters retry and then drop: spans of earlier journeys are nobody's concern.
            "OTEL_EXPORTER_OTLP_ENDPOINT": jaeger.OTLP_ENDPOINT,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        })
        env.update({
            # The stack's Kafka Connect worker: the worker process applies the run's connectors to it and grants
            # its principal their topics (the connectors are named <team>.<run>-..., so runs never collide).
            "CONNECT_URL": os.environ["CONNECT_URL"],
            "CONNECT_KAFKA_USERNAME": os.environ["CONNECT_KAFKA_USERNAME"],
        })
        return env

    def _aggregator_env(self) -> dict[str, str]:
        """What scripts/aggregator reads (as `scripts/dev` exports it): the engine's principal on the SASL listener."""
        return {**self.env,
                "AGGREGATOR_HTTP_PORT": str(self.aggregator_port),
                "AGGREGATOR_INSTANCE_ID": f"acceptance-{self.run}",
                "AGGREGATOR_STATE_DIR": str(self.static_root.parent / "aggregator-state"),
                "AGGREGATOR_BOOTSTRAP_SERVERS": self.env["AGGREGATOR_KAFKA_BOOTSTRAP_SERVERS"],
                "AGGREGATOR_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "AGGREGATOR_SASL_MECHANISM": "SCRAM-SHA-512",
                "AGGREGATOR_USERNAME": self.env["AGGREGATOR_KAFKA_USERNAME"],
                "AGGREGATOR_PASSWORD": self.env["AGGREGATOR_KAFKA_PASSWORD"],
                "REGISTRY_URL": self.env["SCHEMA_REGISTRY_URL"]}

    def _production_env(self) -> dict[str, str]:
        """The image's settings: DEBUG off, JSON logs, collected static files, behind a TLS-terminating proxy."""
        env = dict(self.env)
        env.update({
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "DJANGO_STATIC_ROOT": str(self.static_root),
            "LOG_FORMAT": "json",
        })
        return env

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        for old in LOG_DIR.iterdir():
            old.unlink()  # the log check reads this run's logs only; screenshots are this run's too
        redis.Redis.from_url(self.broker).flushdb()  # no task or queued-mark of an earlier run
        production = self._production_env()
        # The image's build step, meanwhile: gunicorn's settings serve the collected, hashed files.
        with open(LOG_DIR / "collectstatic.log", "ab") as log:
            collecting = subprocess.Popen([PYTHON, "manage.py", "collectstatic", "--noinput"], cwd=REPO,
                                          env=production, stdout=log, stderr=subprocess.STDOUT)
        self.database.create()
        manage(self.env, "migrate", "--noinput", log_name="migrate")
        manage(self.env, "seed_demo", log_name="seed_demo")
        if collecting.wait(300) != 0:
            raise RuntimeError(f"collectstatic failed; see {LOG_DIR / 'collectstatic.log'}")

        # The last line: `shell` may first say which objects it imported.
        self.worker_rules_topic = manage(self.env, "shell", "-c", RULES_TOPIC_PROBE).strip().splitlines()[-1]
        if self.worker_rules_topic != self.rules_topic:
            # Never let a run write its rules into the shared default topic that other portals' routers read.
            raise RuntimeError(f"the worker would publish routing rules to {self.worker_rules_topic!r}, "
                               f"not to ROUTER_RULES_TOPIC={self.rules_topic}")

        web_port, gunicorn_port, router_metrics, mapper_metrics = free_port(), free_port(), free_port(), free_port()
        hostname = f"acceptance-{self.run}@{socket.gethostname()}"
        runserver = self._spawn("runserver", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{web_port}"], self.env)
        worker = self._spawn("worker", [PYTHON, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO",
                                        "--concurrency=2", "-Q", "portal", "-n", hostname], self.env)
        self._spawn("beat", [PYTHON, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO", "--schedule",
                             str(self.static_root.parent / "celerybeat-schedule")], self.env)
        router = self._spawn("router", [PYTHON, "manage.py", "run_router"],
                             {**self.env, "ROUTER_METRICS_PORT": str(router_metrics)})
        gateway = self._spawn("gateway", [PYTHON, "manage.py", "run_gateway", "--port", str(self.gateway_port),
                                           "--grpc-port", str(self.gateway_grpc_port)], self.env)
        # scripts/entrypoint web, bound to loopback only.
        gunicorn = self._spawn("gunicorn", [
            PYTHON, "-m", "gunicorn", "portal.wsgi", "--config", "python:portal.gunicorn_conf",
            "--bind", f"127.0.0.1:{gunicorn_port}", "--workers", "2",
            "--forwarded-allow-ips", production["FORWARDED_ALLOW_IPS"]], production)

        self.runserver = Server("runserver", f"http://127.0.0.1:{web_port}", {})
        self.gunicorn = Server("gunicorn", f"http://127.0.0.1:{gunicorn_port}", dict(PROXY_HEADERS))
        self.metrics_urls = {"web": f"{self.runserver.url}/metrics",
                             "router": f"http://127.0.0.1:{router_metrics}/metrics",
                             "mapper": f"http://127.0.0.1:{mapper_metrics}/metrics",
                             "gateway": f"{self.gateway_url}/metrics"}
        wait_ready(runserver, f"{self.runserver.url}/readyz")
        wait_ready(gunicorn, f"{self.gunicorn.url}/readyz", headers=self.gunicorn.headers)
        wait_worker(worker, self.broker, hostname)
        wait_ready(router, f"http://127.0.0.1:{router_metrics}/metrics")
        wait_ready(gateway, f"{self.gateway_url}/healthz")
        self._provision_principals()
        mapper = self._spawn("mapper", [PYTHON, "manage.py", "run_mapper"],
                             {**self.env, "MAPPER_METRICS_PORT": str(mapper_metrics)})
        wait_ready(mapper, f"http://127.0.0.1:{mapper_metrics}/metrics")
        if AGGREGATOR_LAUNCHER.exists():  # the engine, when its launcher is in the tree
            aggregator = self._spawn("aggregator", [str(AGGREGATOR_LAUNCHER)], self._aggregator_env())
            wait_ready(aggregator, f"{self.aggregator_url}/healthz", timeout=300)  # a first start may build it
            self.metrics_urls["aggregator"] = f"{self.aggregator_url}/metrics"

    def _provision_principals(self) -> None:
        """What the worker's runs do before the first definition or mapping, done at once: the engine's and the
        mapper's credentials and ACLs and the mappings table (an access run) and the engine's two tables (an
        aggregations run), so both start as provisioned principals, as they do in a running installation."""
        manage(self.env, "shell", "-c", PROVISION_AGGREGATOR, log_name="provision_principals")

    def process(self, name: str) -> Process:
        return next(process for process in self.processes if process.name == name)

    def restart_gateway(self, *, kill: bool = True) -> None:
        """Kill the gateway (SIGKILL; SIGTERM with kill=False) and start it again with the same command, ports
        and settings, as a supervisor would; returns when it serves again (its grants are read before that)."""
        gateway = self.process("gateway")
        if kill:
            gateway.kill()
        else:
            gateway.stop()
        gateway.start()
        wait_ready(gateway, f"{self.gateway_url}/healthz")

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        process = Process(name, command, env)
        self.processes.append(process)
        process.start()
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.database.drop()
        redis.Redis.from_url(self.broker).flushdb()  # the run's own database: nothing left queued
        shutil.rmtree(self.static_root.parent, ignore_errors=True)

    def log_files(self) -> list[Path]:
        return sorted(LOG_DIR.glob("*.log"))
