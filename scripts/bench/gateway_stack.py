"""The gateway benchmark's stack (gateway.py measures against it): the gateway's own Kafka principal with the ACLs of
the bench's one grant, and `manage.py run_gateway` as a process, with validation on or off. Imported once Django is
set up."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings

from onboarding.gateway.grants import Grant
from onboarding.platform.connection import default_kafka_connection
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.reconcile import gateway_acls
from onboarding.reconcile.gateway_access import gateway_written_topics

REPO = Path(__file__).resolve().parents[2]
# run_gateway with Gateway(validate=False), for as long as the command has no option of its own for it.
UNVALIDATED = """
import functools, os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django
django.setup()
from django.core.management import call_command
from onboarding.gateway.app import Gateway
from onboarding.management.commands import run_gateway
run_gateway.Gateway = functools.partial(Gateway, validate=False)
call_command("run_gateway", *sys.argv[1:])
"""



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unvalidated_option() -> str | None:
    """run_gateway's own switch for validation off, if it has one by now."""
    from onboarding.management.commands.run_gateway import Command

    parser = Command().create_parser("manage.py", "run_gateway")
    for action in parser._actions:
        for option in action.option_strings:
            if option in ("--no-validate", "--no-validation", "--skip-validation", "--unvalidated"):
                return option
    return None


class BenchPrincipal:
    """The bench gateway's own Kafka principal (the gateway refuses to run as the admin), with its SCRAM credential
    and exactly the ACLs its one grant needs, planned as the access run plans them; removed at the end."""

    def __init__(self, run: str, grant: Grant, grants_topic: str):
        self.username, self.password = f"portal-gateway.bench-{run}", secrets.token_urlsafe(24)
        self.principal = gateway_acls.principal_of(self.username)
        self.admin = KafkaAcls(default_kafka_connection())
        self.admin.alter_scram(upserts={self.username: self.password}, mechanism="SCRAM-SHA-512")
        self.acls = gateway_acls.planned(self.principal, [grant], grants_topic=grants_topic,
                                         transactional_id_prefix=settings.GATEWAY_TRANSACTIONAL_ID_PREFIX,
                                         write_topics=gateway_written_topics())
        failed = [error for error in self.admin.create_acls(self.acls).values() if error is not None]
        if failed:
            raise RuntimeError(f"the bench principal's ACLs were not created: {failed}")

    def env(self) -> dict:
        return {**os.environ, "GATEWAY_KAFKA_USERNAME": self.username, "GATEWAY_KAFKA_PASSWORD": self.password,
                "GATEWAY_KAFKA_BOOTSTRAP_SERVERS": os.environ.get("GATEWAY_KAFKA_BOOTSTRAP_SERVERS")
                or os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"]}

    def remove(self) -> None:
        self.admin.delete_acls(self.acls)
        self.admin.alter_scram(deletes=[self.username], mechanism="SCRAM-SHA-512")


class GatewayProcess:
    def __init__(self, grants_topic: str, *, validate: bool, log_dir: str, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        arguments = ["--port", str(self.port), "--grants-topic", grants_topic]
        if validate:
            command = [sys.executable, "manage.py", "run_gateway", *arguments]
        elif option := unvalidated_option():
            command = [sys.executable, "manage.py", "run_gateway", *arguments, option]
        else:
            command = [sys.executable, "-c", UNVALIDATED, *arguments]
        self.log_path = Path(log_dir) / f"gateway-{'on' if validate else 'off'}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited ({self.process.returncode}): "
                                   f"{self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the gateway did not answer /healthz within 90 s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
