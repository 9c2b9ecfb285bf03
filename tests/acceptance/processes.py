"""The acceptance stack's building blocks: a database of its own, a long-running process logging to a file,
a `manage.py` command run to completion, and the waits until a server or a worker answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

REPO = Path(__file__).resolve().parents[2]
# ACCEPTANCE_LOG_DIR gives a run logs of its own: start() empties the directory, and the log check reads it.
LOG_DIR = Path(os.environ.get("ACCEPTANCE_LOG_DIR") or REPO / ".stack" / "logs" / "acceptance")
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def redis_url(db: int) -> str:
    parts = urlsplit(os.environ["REDIS_URL"])
    return urlunsplit(parts._replace(path=f"/{db}"))


class Database:
    """A database of its own on the stack's Postgres, created for the run and dropped after it."""

    def __init__(self, name: str):
        self.name = name
        self.url = database_url(name)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)

    def create(self) -> None:
        with self._admin() as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Process:
    """One long-running portal process, in its own process group, logging to a file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path = field(init=False)
    popen: subprocess.Popen | None = None

    def __post_init__(self):
        self.log_path = LOG_DIR / f"{self.name}.log"

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        log.close()

    def check_alive(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen and self.popen.returncode}; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the process group, as a crash or the OOM killer would: none of its shutdown code runs."""
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


def manage(env: dict[str, str], *args: str, log_name: str | None = None) -> str:
    """Run `manage.py <args>` to completion, as an operator on the install's host would; returns stdout."""
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    if log_name:
        with open(LOG_DIR / f"{log_name}.log", "a") as log:
            log.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def wait_ready(process: Process, url: str, *, headers: dict | None = None, timeout: float = 90) -> None:
    """Until `url` answers 200 (the web servers' /readyz, the router's /metrics)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        process.check_alive()
        try:
            answer = requests.get(url, headers=headers, timeout=5, allow_redirects=False)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:300]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"{process.name} not ready at {url} within {timeout}s ({last}); see {process.log_path}")


def wait_worker(process: Process, broker: str, hostname: str, timeout: float = 90) -> None:
    """Until the Celery worker answers a ping on its broker."""
    from celery import Celery

    app = Celery(broker=broker)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            process.check_alive()
            try:
                if app.control.ping(destination=[hostname], timeout=1):
                    return
            except OSError:
                time.sleep(0.5)
    finally:
        app.close()
    raise RuntimeError(f"{process.name} did not answer a ping within {timeout}s; see {process.log_path}")
