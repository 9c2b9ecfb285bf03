"""Aggregations as a team uses them: defined through the portal's API over HTTP, run by the stack's engine
(scripts/aggregator) as its own principal, fed by the team's SCRAM account, and read back by the team's own
account from the output topic; previewed by the engine; refused to an outsider over a private topic. The output is a
topic of the team whose fields computed from a PHI-tagged source field are masked in peek and through the gateway."""

import json
import struct
from datetime import datetime

import pytest

from tests.acceptance import kafka, steps
from tests.acceptance.gateway_rest import team_gateway
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


CLAIM_SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {
    "id": {"type": "integer"}, "provider_id": {"type": "string"}, "amount": {"type": "number"},
    "at": {"type": "integer"}}, "required": ["id", "provider_id", "amount", "at"]}


def test_the_output_is_a_team_topic_whose_phi_derived_fields_are_masked(as_user, run, engine, payments_app, stack):
    alice = as_user("alice")
    source = steps.topic(alice, name=f"payments.{run}-phi-claims", team="payments", partitions=2)
    schema = alice.created("schemas/", {"topic": source["id"], "side": "value", "format": "JSON",
                                        "schema": json.dumps(CLAIM_SCHEMA)})
    alice.wait_status(f"schemas/{schema['id']}/")
    tagged = alice.post(f"schemas/{schema['id']}/sensitive-fields/", {"path": "provider_id", "classification": "phi"})
    assert tagged.status_code == 201, tagged.text
    agg = alice.created("aggregations/", definition(run, source, name=f"{run}-phi", output_topic=f"payments.{run}-phi",
                                                    measures=[{"name": "claims", "op": "count"},
                                                              {"name": "last_provider", "op": "last",
                                                               "field": "value.provider_id"}]))
    found = alice.ok("topics/", params={"team": "payments", "q": agg["output_topic"]})["results"]
    output = next(topic for topic in found if topic["name"] == agg["output_topic"])
    assert output["partitions"] == 2  # the source's
    refused = alice.delete(f"topics/{output['id']}/", params={"confirm": output["name"]})
    assert refused.status_code == 400 and "managed by aggregation" in refused.text, refused.text

    kafka.produce_json(kafka.client_config(payments_app), source["name"], CLAIMS)
    alice.wait_status(f"aggregations/{agg['id']}/", timeout=180)

    def peeked() -> list[dict] | None:
        events = alice.ok(f"topics/{output['id']}/peek/", params={"limit": 20})["events"]
        return [event["value"] for event in events] or None

    values = wait_for(peeked, timeout=120, message=f"results in the peek of {output['name']}")
    assert {value["last_provider"] for value in values} == {"[PHI]"}, values
    assert {value["group"] for value in values} == {"[PHI]"} and all(value["claims"] >= 1 for value in values)

    gateway = team_gateway(alice, stack.gateway_url, team="payments", name=f"{run} agg masking")

    def consumed() -> list[dict] | None:
        answer = gateway.events(output["name"], f"payments.{run}-agg-masked", max_events=20, wait_ms=2000)
        assert answer.status_code == 200, answer.text
        return [event["value"]["data"] for event in answer.json()["events"]] or None

    read = wait_for(consumed, timeout=60, message="the results through the gateway")
    assert {value["last_provider"] for value in read} == {"[PHI]"}, read
