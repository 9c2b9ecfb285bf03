"""Aggregations as a team uses them: defined through the portal's API over HTTP, run by the stack's engine
(scripts/aggregator) as its own principal, fed by the team's SCRAM account, and read back by the team's own
account from the output topic; previewed by the engine; refused to an outsider over a private topic."""

import json
import struct
from datetime import datetime

import pytest

from tests.acceptance import kafka, steps
from tests.acceptance.http import wait_for
from tests.acceptance.stack import AGGREGATOR_LAUNCHER

MINUTE = 60_000
# Two windows of a minute by the events' own time (a grace of ten minutes, so the order in which the partitions are
# read never makes one late): the filter drops the small claim, the rest are counted and summed per provider.
START = 1_765_000_000_000 // MINUTE * MINUTE
CLAIMS = [
    {"id": 1, "provider_id": "prov-1", "amount": 150, "at": START + 1_000},
    {"id": 2, "provider_id": "prov-1", "amount": 250.5, "at": START + 2_000},
    {"id": 3, "provider_id": "prov-2", "amount": 500, "at": START + 3_000},
    {"id": 4, "provider_id": "prov-2", "amount": 40, "at": START + 4_000},
    {"id": 5, "provider_id": "prov-1", "amount": 300, "at": START + MINUTE + 1_000},
]
EXPECTED = {
    ("prov-1", START): {"claims": 2, "amount_total": 400.5},
    ("prov-2", START): {"claims": 1, "amount_total": 500},
    ("prov-1", START + MINUTE): {"claims": 1, "amount_total": 300},
}


@pytest.fixture(scope="module")
def engine(stack):
    assert AGGREGATOR_LAUNCHER.exists(), f"the aggregation engine's launcher {AGGREGATOR_LAUNCHER} is missing"
    return stack.aggregator_url


@pytest.fixture(scope="module")
def payments_app(as_user, run):
    """The payments team's own account: it produces the claims and reads the results."""
    return steps.service_account(as_user("alice"), team="payments", name=f"{run}-agg-app")


def definition(run: str, source: dict, **overrides) -> dict:
    body = {"team": "payments", "name": f"{run}-per-provider", "source": source["id"], "window_type": "tumbling",
            "size": "1m", "grace": "10m", "time_source": "field", "time_field": "value.at",
            "filter": "value.amount > `100`", "group_by": "value.provider_id", "start_from": "earliest",
            "measures": [{"name": "claims", "op": "count"},
                         {"name": "amount_total", "op": "sum", "field": "value.amount"}],
            "output_topic": f"payments.{run}-per-provider-minutely"}
    body.update(overrides)
    return body


def decoded(record: dict) -> tuple[int, dict]:
    """The Confluent wire format: magic byte 0, the schema id, then the JSON value."""
    raw = record["value"]
    assert raw[0] == 0, raw[:8]
    return struct.unpack(">I", raw[1:5])[0], json.loads(raw[5:])


def test_a_team_defines_an_aggregation_and_reads_its_windows(as_user, run, engine, payments_app):
    alice = as_user("alice")
    source = steps.topic(alice, name=f"payments.{run}-claims", team="payments", partitions=2,
                         visibility="private")
    agg = alice.created("aggregations/", definition(run, source))
    assert agg["definition_id"] == f"payments.{run}-per-provider" and agg["version"] == 1

    kafka.produce_json(kafka.client_config(payments_app), source["name"], CLAIMS)
    agg = alice.wait_status(f"aggregations/{agg['id']}/", timeout=180)  # the engine runs it: ready
    assert agg["output_schema_id"]

    config = kafka.client_config(payments_app)
    latest: dict = {}

    def windows_complete() -> bool:
        for record in kafka.read_to_end(config, agg["output_topic"], group=f"payments.{run}-agg-reader"):
            schema_id, value = decoded(record)
            assert schema_id == agg["output_schema_id"]
            assert record["key"].decode() == value["group"]
            start = int(datetime.fromisoformat(value["window_start"]).timestamp() * 1000)
            latest[(value["group"], start)] = {k: value[k] for k in ("claims", "amount_total")}
        return latest == EXPECTED

    wait_for(windows_complete, timeout=120, message=f"the windows in {agg['output_topic']}")
    assert latest == EXPECTED


def test_the_engine_previews_pasted_events(as_user, run, engine):
    alice = as_user("alice")
    source = steps.topic(alice, name=f"payments.{run}-preview", team="payments")
    answer = alice.post("aggregations/preview", {
        **definition(run, source, name=f"{run}-preview", output_topic=""),
        "events": [{"value": claim, "timestamp_ms": claim["at"]} for claim in CLAIMS]})
    assert answer.status_code == 200, answer.text
    finals = {(r["group"], r["window_start"]): r["claims"] for r in answer.json()["results"]}
    assert sorted(finals.values()) == [1, 1, 2] and answer.json()["events"] == len(CLAIMS)


def test_an_outsider_cannot_define_one_over_a_private_topic(as_user, run):
    source = steps.topic(as_user("alice"), name=f"payments.{run}-secret", team="payments", visibility="private")
    answer = as_user("bob").post("aggregations/", definition(run, source, team="clinical",
                                                             output_topic=f"clinical.{run}-stolen"))
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"]["source"] == ["Choose a topic your team owns or holds an approved subscription to."]
