"""The normalization journey as teams run it, over HTTP with tokens: the governance team declares the canonical
patient; two acquired systems' teams (clinical's Avro feed, payments' JSON Schema feed: their own field names,
date formats and sex codes) each map theirs into it with a code table, and a save that leaves a required canonical
field unmapped is refused with the editor's words. The systems publish through the gateway with their team
tokens; the stack's mapper (`manage.py run_mapper`, its own principal) writes every event into the canonical topic
exactly once, read back by the governance team's own SCRAM account, a bad event into `<canonical>.dlq` with its
rule and path, and events after a new version with that version; a PHI-tagged source field is masked in the
canonical topic's peek.

MAPPER_EVENTS_PER_FORMAT sets the size of each feed (500 here; the integration tier's slow run maps 10,000)."""

import html
import json
import os
import uuid
from collections import Counter
from types import SimpleNamespace

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.acceptance import kafka, steps
from tests.acceptance.conftest import PASSWORDS
from tests.acceptance.gateway_rest import team_gateway
from tests.acceptance.http import Browser, wait_for
from tests.fixtures.registry_readers import avro_deserializer, registry_client

EVENTS = int(os.environ.get("MAPPER_EVENTS_PER_FORMAT", "500"))
GATEWAY_BATCH = 250  # entries per records:batch request (the gateway takes up to 1,000)
MISSING_FIELD = "required by the canonical schema, and no rule fills it"

PATIENT = {"type": "record", "name": "Patient", "namespace": "std.normalization", "fields": [
    {"name": "source", "type": "string"}, {"name": "seq", "type": "long"}, {"name": "patient_id", "type": "string"},
    {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}},
    {"name": "gender", "type": {"type": "enum", "name": "Gender", "symbols": ["male", "female", "other", "unknown"]}}]}
LAB_A = {"type": "record", "name": "LabAPatient", "namespace": "clinical.lab_a", "fields": [
    {"name": "seq", "type": "long"}, {"name": "pid", "type": "string"}, {"name": "dob", "type": "string"},
    {"name": "sex", "type": "string"}]}
LAB_B = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
         "properties": {"n": {"type": "integer"}, "patientId": {"type": "string"}, "birthDate": {"type": "string"},
                        "gender": {"type": "string"}},
         "required": ["n", "patientId", "birthDate", "gender"]}


def lab_a_rules(source: str = "lab-a") -> list[dict]:
    return [{"target": "source", "sources": [], "fn": "constant", "args": {"value": source}},
            {"target": "seq", "sources": ["seq"], "fn": "rename", "args": {}},
            {"target": "patient_id", "sources": ["pid"], "fn": "rename", "args": {}},
            {"target": "birth_date", "sources": ["dob"], "fn": "date_parse",
             "args": {"formats": ["%Y%m%d"], "output": "epoch_days"}},
            {"target": "gender", "sources": ["sex"], "fn": "code", "args": {"table": "lab-a-sex"}}]


LAB_B_RULES = [{"target": "source", "sources": [], "fn": "constant", "args": {"value": "lab-b"}},
               {"target": "seq", "sources": ["n"], "fn": "rename", "args": {}},
               {"target": "patient_id", "sources": ["patientId"], "fn": "rename", "args": {}},
               {"target": "birth_date", "sources": ["birthDate"], "fn": "date_parse",
                "args": {"formats": ["%d/%m/%Y"], "output": "epoch_days"}},
               {"target": "gender", "sources": ["gender"], "fn": "code", "args": {"table": "lab-b-sex"}}]


def lab_a_event(n: int) -> dict:
    return {"seq": n, "pid": f"A{n:05d}", "dob": f"19{50 + n % 50:02d}0{1 + n % 9}1{n % 10}", "sex": "MF"[n % 2]}


def lab_b_event(n: int) -> dict:
    return {"n": n, "patientId": f"B{n:05d}", "birthDate": f"1{n % 10}/0{1 + n % 9}/19{50 + n % 50:02d}",
            "gender": "12"[n % 2]}


def value_schema(api, topic: dict, portal_format: str, document: dict) -> dict:
    created = api.created("schemas/", {"topic": topic["id"], "side": "value", "format": portal_format,
                                       "schema": json.dumps(document)})
    return api.wait_status(f"schemas/{created['id']}/")


def publish(gateway, topic: str, kind: str, events: dict[str, dict]) -> None:
    """Events keyed by their id, through the gateway's records:batch, every one acknowledged."""
    items = list(events.items())
    for start in range(0, len(items), GATEWAY_BATCH):
        entries = [{"id": key, "key": {"type": "STRING", "data": key}, "value": {"type": kind, "data": event}}
                   for key, event in items[start:start + GATEWAY_BATCH]]
        answer = gateway.produce_batch(topic, entries)
        assert answer.status_code == 207 and not answer.json()["failures"], answer.text[:2000]


@pytest.fixture(scope="module")
def journey(as_user, run, stack, registry_url):
    """The canonical patient of the governance team and both teams' mappings into it, published to the mapper."""
    operator, bob, alice = as_user("operator"), as_user("bob"), as_user("alice")
    answer = operator.post("teams/", {"slug": "std", "name": "Data governance", "contacts": "std@example.org"})
    assert answer.status_code in (201, 400), answer.text  # 400: an earlier journey of this run made it
    canonical = steps.topic(operator, name=f"std.{run}-norm-patient", team="std", partitions=2)
    value_schema(operator, canonical, "AVRO", PATIENT)
    operator.created("canonical-topics/", {"cluster": "local", "topic": canonical["name"],
                                          "description": "A patient, the way every team reads one"})
    governance = kafka.client_config(steps.service_account(operator, team="std", name=f"{run}-norm-reader"))

    lab_a = steps.topic(bob, name=f"clinical.{run}-lab-a-patients", team="clinical", partitions=2)
    lab_a_schema = value_schema(bob, lab_a, "AVRO", LAB_A)
    tagged = bob.post(f"schemas/{lab_a_schema['id']}/sensitive-fields/", {"path": "pid", "classification": "phi"})
    assert tagged.status_code == 201, tagged.text
    bob.created("code-tables/", {"team": "clinical", "name": "lab-a-sex", "entries": {"M": "male", "F": "female"},
                                 "has_default": True, "default": "unknown"})
    lab_b = steps.topic(alice, name=f"payments.{run}-lab-b-patients", team="payments", partitions=2)
    value_schema(alice, lab_b, "JSON", LAB_B)
    alice.created("code-tables/", {"team": "payments", "name": "lab-b-sex",
                                   "entries": {"1": "male", "2": "female", "9": "unknown"}, "has_default": False})

    mapping_a = bob.created("mappings/", {"team": "clinical", "cluster": "local", "name": f"{run}-lab-a",
                                          "source_topic": lab_a["name"], "canonical_topic": canonical["name"],
                                          "rules": lab_a_rules()})
    mapping_b = alice.created("mappings/", {"team": "payments", "cluster": "local", "name": f"{run}-lab-b",
                                            "source_topic": lab_b["name"], "canonical_topic": canonical["name"],
                                            "rules": LAB_B_RULES})
    bob.wait_status(f"mappings/{mapping_a['id']}/", timeout=120)
    alice.wait_status(f"mappings/{mapping_b['id']}/", timeout=120)
    return SimpleNamespace(
        canonical=canonical, lab_a=lab_a, lab_b=lab_b, mapping_a=mapping_a, mapping_b=mapping_b, governance=governance,
        gateway_a=team_gateway(bob, stack.gateway_url, team="clinical", name=f"{run} lab a system"),
        gateway_b=team_gateway(alice, stack.gateway_url, team="payments", name=f"{run} lab b system"),
        registry=registry_client(registry_url), run=run)


def canonical_records(journey, topic: str | None = None) -> list[dict]:
    """Every committed record of the canonical topic (or its dead-letter topic) as the governance team's account
    reads it: {key, headers, value (Avro decoded for the canonical topic, raw bytes otherwise)}."""
    topic = topic or journey.canonical["name"]
    decode = avro_deserializer(journey.registry) if topic == journey.canonical["name"] else None
    context = SerializationContext(topic, MessageField.VALUE)
    return [{"key": record["key"].decode(),
             "headers": {name: (value or b"").decode() for name, value in record["headers"]},
             "value": decode(record["value"], context) if decode else record["value"]}
            for record in kafka.read_to_end(journey.governance, topic, group=f"std.{journey.run}-{uuid.uuid4().hex}")]


def test_a_mapping_leaving_a_required_canonical_field_unmapped_is_refused_as_in_the_editor(journey, as_user, stack):
    body = {"team": "clinical", "cluster": "local", "name": f"{journey.run}-incomplete",
            "source_topic": journey.lab_a["name"], "canonical_topic": journey.canonical["name"],
            "rules": [rule for rule in lab_a_rules() if rule["target"] != "birth_date"]}
    refused = as_user("bob").post("mappings/", body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"] == {"targets.birth_date": [MISSING_FIELD]}
    page = Browser(stack.runserver).log_in("bob", PASSWORDS["bob"]).submit(
        "/mappings/new/", {**body, "rules": json.dumps(body["rules"]), "op": "save"})
    assert page.status_code == 400 and page.url.endswith("/mappings/new/"), page.url  # not saved: the editor again
    assert MISSING_FIELD in html.unescape(page.text)


def test_both_feeds_become_canonical_patients_exactly_once(journey):
    publish(journey.gateway_a, journey.lab_a["name"], "AVRO", {f"a-{n}": lab_a_event(n) for n in range(EVENTS)})
    publish(journey.gateway_b, journey.lab_b["name"], "JSONSCHEMA", {f"b-{n}": lab_b_event(n) for n in range(EVENTS)})
    wanted = {f"a-{n}" for n in range(EVENTS)} | {f"b-{n}" for n in range(EVENTS)}

    def all_mapped() -> list[dict] | None:
        found = [r for r in canonical_records(journey) if r["key"] in wanted]
        return found if {r["key"] for r in found} == wanted else None

    records = wait_for(all_mapped, timeout=180, message=f"{2 * EVENTS} canonical patients")
    counts = Counter(r["key"] for r in records)
    assert len(records) == 2 * EVENTS and set(counts.values()) == {1}, counts.most_common(3)
    by_key = {r["key"]: r for r in records}
    for n in (0, 1, EVENTS - 1):
        a, b = by_key[f"a-{n}"], by_key[f"b-{n}"]
        assert (a["value"]["source"], a["value"]["seq"], a["value"]["patient_id"]) == ("lab-a", n, f"A{n:05d}")
        assert a["value"]["birth_date"].strftime("%Y%m%d") == lab_a_event(n)["dob"]
        assert a["value"]["gender"] == ("male" if n % 2 == 0 else "female")
        assert (b["value"]["source"], b["value"]["seq"], b["value"]["patient_id"]) == ("lab-b", n, f"B{n:05d}")
        assert b["value"]["birth_date"].strftime("%d/%m/%Y") == lab_b_event(n)["birthDate"]
        assert b["value"]["gender"] == ("male" if n % 2 == 0 else "female")
        assert a["headers"]["map.mapping"] == journey.mapping_a["mapping_id"]
        assert b["headers"]["map.mapping"] == journey.mapping_b["mapping_id"]


def test_a_bad_event_goes_to_the_dead_letter_topic_with_its_rule_and_path(journey):
    bad = {**lab_b_event(1), "gender": "7"}  # valid for the source's schema, not in the team's code table
    publish(journey.gateway_b, journey.lab_b["name"], "JSONSCHEMA", {"bad-1": bad, "good-1": lab_b_event(2)})
    dlq = f"{journey.canonical['name']}.dlq"
    assert journey.mapping_b["dlq_topic"] == dlq

    dead = wait_for(lambda: [r for r in canonical_records(journey, dlq) if r["key"] == "bad-1"] or None,
                    timeout=90, message=f"the bad event in {dlq}")
    assert len(dead) == 1
    (letter,) = dead
    assert json.loads(letter["value"][5:]) == bad  # the source's own bytes (wire format), for a replay
    headers = letter["headers"]
    assert (headers["map.error.rule"], headers["map.error.target"], headers["map.error.source"]) == (
        "4", "gender", "gender")
    assert "'7' is not in table lab-b-sex" in headers["map.error.message"], headers
    assert headers["map.mapping"] == journey.mapping_b["mapping_id"]
    mapped = wait_for(lambda: [r for r in canonical_records(journey) if r["key"] in ("bad-1", "good-1")] or None,
                      timeout=90, message="the good event in the canonical topic")
    assert [r["key"] for r in mapped] == ["good-1"]


def test_a_new_version_takes_effect_while_the_mapper_runs(journey, as_user):
    bob = as_user("bob")
    path = f"mappings/{journey.mapping_a['id']}/"
    renewed = bob.patch(path, {"rules": lab_a_rules("lab-a/v2"), "note": "the lab's new name"})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["current_version"]["number"] == 2
    bob.wait_status(path, timeout=120)

    probes = iter(range(10_000))

    def version_two_seen() -> bool:
        """One more probe event each time, until the mapper writes one with version 2: it runs version 2 then."""
        n = next(probes)
        publish(journey.gateway_a, journey.lab_a["name"], "AVRO", {f"probe-{n}": lab_a_event(n)})
        return any(r["headers"]["map.version"] == "2" for r in canonical_records(journey)
                   if r["key"].startswith("probe-"))

    wait_for(version_two_seen, timeout=120, interval=2, message="a canonical event of version 2")
    after = {f"v2-{n}": lab_a_event(n) for n in range(50)}
    publish(journey.gateway_a, journey.lab_a["name"], "AVRO", after)

    records = wait_for(lambda: (found := [r for r in canonical_records(journey) if r["key"] in after])
                       and len(found) >= len(after) and found, timeout=90, message="the events after version 2")
    assert sorted(r["key"] for r in records) == sorted(after)
    assert {r["headers"]["map.version"] for r in records} == {"2"}
    assert {r["value"]["source"] for r in records} == {"lab-a/v2"}


def test_a_phi_source_field_is_masked_in_the_peek_of_the_canonical_topic(journey, as_user):
    publish(journey.gateway_a, journey.lab_a["name"], "AVRO", {f"peek-{n}": lab_a_event(n) for n in range(3)})
    operator = as_user("operator")

    def peeked() -> list[dict] | None:
        events = operator.ok(f"topics/{journey.canonical['id']}/peek/", params={"limit": 50})["events"]
        return [event["value"] for event in events] or None

    values = wait_for(peeked, timeout=90, message=f"events in the peek of {journey.canonical['name']}")
    assert {value["patient_id"] for value in values} == {"[PHI]"}, values  # fed by clinical's PHI-tagged pid
    assert all(value["gender"] in ("male", "female", "unknown") and value["source"] for value in values), values
