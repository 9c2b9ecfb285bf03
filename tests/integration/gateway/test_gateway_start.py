"""`manage.py run_gateway` as a process: it will not start without a principal of its own, and it waits for
the access run to provision one, then gives up with the reason."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def run_gateway(env: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "run_gateway", "--port", "0", "--grpc-port", "0",
                           *arguments], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_without_its_own_principal_the_gateway_refuses_to_start_and_names_what_is_missing():
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_KAFKA_")}

    done = run_gateway(env)

    assert done.returncode != 0
    assert "GATEWAY_KAFKA_BOOTSTRAP_SERVERS, GATEWAY_KAFKA_USERNAME, GATEWAY_KAFKA_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_principal_no_access_run_has_provisioned_waits_then_gives_up_with_the_reason(kafka_sasl_bootstrap):
    username = f"portal-gateway.unprovisioned-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "GATEWAY_KAFKA_USERNAME": username, "GATEWAY_KAFKA_PASSWORD": "not-set-anywhere",
           "GATEWAY_KAFKA_BOOTSTRAP_SERVERS": kafka_sasl_bootstrap}

    done = run_gateway(env, "--start-timeout", "4")

    assert done.returncode != 0
    assert f"the gateway principal {username} cannot read its grants topic" in done.stderr
    assert "Traceback" not in done.stderr
