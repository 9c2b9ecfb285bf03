"""The event gateway as a team without a Kafka client uses it: a team token made in the portal publishes
through the gateway's REST API (Confluent REST Proxy v3), the team's own service account reads the events on
the SASL listener, another team's topic is refused, and a revoked token stops working within seconds."""

import html
import json
import os
import re
import subprocess

import pytest
import requests

from tests.acceptance import kafka, steps
from tests.acceptance.conftest import PASSWORDS
from tests.acceptance.http import Browser, wait_for


class Gateway:
    """The gateway as a REST Proxy v3 client sees it: a base URL and a bearer token."""

    def __init__(self, url: str, token: str):
        self.url, self.headers = url, {"Authorization": f"Bearer {token}"}

    def cluster_id(self) -> str | None:
        answer = requests.get(f"{self.url}/v3/clusters", headers=self.headers, timeout=10)
        return answer.json()["data"][0]["cluster_id"] if answer.status_code == 200 else None

    def produce(self, cluster_id: str, topic: str, record: dict) -> requests.Response:
        return requests.post(f"{self.url}/v3/clusters/{cluster_id}/topics/{topic}/records", json=record,
                             headers=self.headers, timeout=30)


@pytest.fixture(scope="module")
def team_token(as_user, run) -> dict:
    """A write token of the payments team, made through the portal's API by its owner."""
    return as_user("alice").created("tokens/", {"name": f"{run} gateway", "scope": "write", "team": "payments"})


@pytest.fixture(scope="module")
def gateway(stack, team_token) -> Gateway:
    client = Gateway(stack.gateway_url, team_token["token"])
    # The worker's access run writes the token's grant; the gateway follows the grants table.
    wait_for(client.cluster_id, timeout=60, message="the gateway to accept the new team token")
    return client


def test_a_team_token_publishes_and_the_teams_own_account_reads_it(as_user, run, gateway):
    topic = steps.topic(as_user("alice"), name=f"payments.{run}-gateway", team="payments", partitions=3)
    reader = steps.service_account(as_user("alice"), team="payments", name=f"{run}-gwreader")
    cluster_id = gateway.cluster_id()

    reports = [gateway.produce(cluster_id, topic["name"], {"key": {"type": "STRING", "data": f"order-{i}"},
                                                            "value": {"type": "JSON", "data": {"id": i}}})
               for i in range(5)]

    assert [r.status_code for r in reports] == [200] * 5, [r.text for r in reports]
    assert all(r.json()["error_code"] == 200 and r.json()["topic_name"] == topic["name"] for r in reports)
    records = kafka.consume(kafka.client_config(reader), topic["name"], group=f"payments.{run}-gw", expect=5)
    assert sorted(r["value"]["id"] for r in records) == [0, 1, 2, 3, 4]
    assert {r["key"]: r["partition"] for r in records} == {
        f"order-{i}": reports[i].json()["partition_id"] for i in range(5)}


def test_another_teams_topic_is_refused(as_user, run, gateway):
    topic = steps.topic(as_user("bob"), name=f"clinical.{run}-gateway", team="clinical")

    answer = gateway.produce(gateway.cluster_id(), topic["name"], {"value": {"type": "JSON", "data": {"x": 1}}})

    assert answer.status_code == 403 and answer.json()["error_code"] == 40301, answer.text


def test_a_revoked_team_token_is_refused_within_seconds(as_user, run, stack):
    alice = as_user("alice")
    made = alice.created("tokens/", {"name": f"{run} gateway short-lived", "scope": "write", "team": "payments"})
    client = Gateway(stack.gateway_url, made["token"])
    cluster_id = wait_for(client.cluster_id, timeout=60, message="the gateway to accept the token")

    assert alice.post(f"tokens/{made['id']}/revoke/").status_code == 200

    wait_for(lambda: client.produce(cluster_id, f"payments.{run}-gateway", {"value": {"type": "JSON", "data": {}}})
             .status_code == 401, timeout=30, message="the gateway to refuse the revoked token")


def test_the_commands_on_the_topic_page_publish_as_pasted(as_user, run, servers, gateway, team_token):
    """What a team lead copies from the topic page, run in a shell with the team's token, publishes."""
    topic = steps.topic(as_user("alice"), name=f"payments.{run}-pasted", team="payments")
    page = Browser(servers["runserver"]).log_in("alice", PASSWORDS["alice"]).page(f"/topics/{topic['id']}/").text
    commands = {name: html.unescape(re.search(rf'data-testid="gateway-{name}">([^<]+)</pre>', page).group(1))
                for name in ("discover", "publish", "batch")}

    done = subprocess.run(["bash", "-c", f"set -eo pipefail\n{commands['discover']}\n{commands['publish']}\n"
                                         f"echo\n{commands['batch']}"],
                          env={**os.environ, "TEAM_TOKEN": team_token["token"]}, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 0, done.stderr
    single, batch = (json.loads(line) for line in done.stdout.strip().splitlines())
    assert single["error_code"] == 200 and single["topic_name"] == topic["name"]
    assert len(batch["successes"]) == 2 and batch["failures"] == []
