"""The topic page's gRPC commands, as a team lead pastes them: grpcurl (built by scripts/grpcurl, as a team would
install it) publishes through the gateway's gRPC API with the team's token, the team's own service account reads
the event on the SASL listener, and the page's Consume command reads it back with its cursor, which the page's
acknowledge command commits for the group, so the next read starts after it."""

import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.acceptance import kafka, steps
from tests.acceptance.conftest import PASSWORDS
from tests.acceptance.gateway_rest import team_gateway
from tests.acceptance.http import Browser

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("grpc_publish", "grpc_consume", "grpc_ack")


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory) -> dict:
    """PATH with grpcurl on it (built on first use, as `scripts/dev test` does)."""
    built = subprocess.run([str(REPO / "scripts" / "grpcurl"), "-version"], capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, built.stderr
    bin_dir = Path(os.environ.get("STACK_DIR", REPO / ".stack")) / "bin"
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def page_commands(servers, topic: dict) -> dict[str, str]:
    page = Browser(servers["runserver"]).log_in("alice", PASSWORDS["alice"]).page(f"/topics/{topic['id']}/").text
    return {name: html.unescape(re.search(rf'data-testid="gateway-{name}">([^<]+)</pre>', page).group(1))
            for name in COMMANDS}


def pasted(command: str, env: dict, **variables: str) -> list[dict]:
    """Run ``command`` in bash as pasted; grpcurl's answers (one JSON document each, one after another)."""
    done = subprocess.run(["bash", "-c", f"set -eo pipefail\n{command}"], env={**env, **variables},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    decoder, text, answers = json.JSONDecoder(), done.stdout.strip(), []
    while text:
        answer, end = decoder.raw_decode(text)
        answers.append(answer)
        text = text[end:].lstrip()
    return answers


def test_the_grpc_commands_on_the_topic_page_publish_consume_and_acknowledge(as_user, run, stack, servers,
                                                                             shell_env):
    alice = as_user("alice")
    topic = steps.topic(alice, name=f"payments.{run}-grpc-pasted", team="payments")
    reader = steps.service_account(alice, team="payments", name=f"{run}-grpcreader")
    token = team_gateway(alice, stack.gateway_url, team="payments", name=f"{run} grpcurl").headers["Authorization"]
    env = {**shell_env, "TEAM_TOKEN": token.removeprefix("Bearer ")}
    commands = page_commands(servers, topic)
    credits = int(re.search(r'"credits": (\d+)', commands["grpc_consume"]).group(1))

    count = credits + 2  # one read of `credits`, an acknowledgement of the second event, a read of `credits` more
    published = [pasted(commands["grpc_publish"], env) for _ in range(count)]

    results = [answer["results"] for [answer] in published]
    assert all(len(result) == 1 and "delivery" in result[0] for result in results), results
    records = kafka.consume(kafka.client_config(reader), topic["name"], group=f"payments.{run}-grpc", expect=count)
    assert [r["value"] for r in records] == [{"id": 1}] * count
    assert {r["key"] for r in records} == {"payments-1"}  # one key: one partition, in order

    events = [answer["event"] for answer in pasted(commands["grpc_consume"], env)]  # ends after its credits
    assert len(events) == credits
    assert [json.loads(e["value"]["json"]) for e in events] == [{"id": 1}] * credits
    assert events[0]["key"] == {"string": "payments-1"}

    [acknowledged] = pasted(commands["grpc_ack"], env, CURSOR=events[1]["cursor"])
    assert acknowledged["acknowledgement"]["group"] == "payments.grpcurl-reader"  # the team's prefix
    assert sum(int(n) for n in acknowledged["acknowledgement"]["committed"].values()) == 2

    again = [answer["event"] for answer in pasted(commands["grpc_consume"], env)]  # after the committed cursor
    assert [offset(e) for e in events] == list(range(credits))
    assert [offset(e) for e in again] == list(range(2, 2 + credits))


def offset(event: dict) -> int:
    # proto3 JSON: an int64 is a string, and a field at its default (offset 0) is left out.
    return int(event.get("offset", 0))
