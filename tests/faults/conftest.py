"""Fault tests stop and start real services through scripts/stack; they always restore them."""

import os
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def stack(action: str, service: str) -> None:
    result = subprocess.run([str(REPO / "scripts" / "stack"), action, service], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"scripts/stack {action} {service} failed:\n{result.stdout}{result.stderr}"


def _pid(service: str) -> int:
    stack_dir = Path(os.environ.get("STACK_DIR", REPO / ".stack"))
    return int((stack_dir / "run" / f"{service}.pid").read_text().strip())


@pytest.fixture
def service_control():
    """Stop/start/pause services; whatever a test did is undone afterwards."""
    stopped, paused = set(), set()

    class Control:
        def stop(self, service):
            stack("down", service)
            stopped.add(service)

        def start(self, service):
            stack("up", service)
            stopped.discard(service)

        def pause(self, service):
            os.kill(_pid(service), signal.SIGSTOP)
            paused.add(service)

        def resume(self, service):
            os.kill(_pid(service), signal.SIGCONT)
            paused.discard(service)

    yield Control()
    for service in paused:
        os.kill(_pid(service), signal.SIGCONT)
    for service in stopped:
        stack("up", service)
