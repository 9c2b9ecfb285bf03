"""Normalization mappings as teams use them, over HTTP with tokens: the governance team's canonical topic, whose
schema changes wait for a second person; clinical's code table and its mapping of admissions into the standard,
refused with errors by rule and path until every required canonical field is filled, previewed over a pasted
event with the rule and source of each output field, saved as version 1 (published to the mapper's table: ready)
and then version 2."""

import copy
import json

from tests.acceptance import steps

ADMISSION = {"type": "record", "name": "Admission", "namespace": "clinical.acc", "fields": [
    {"name": "pid", "type": "string"}, {"name": "sex", "type": "string"}, {"name": "dob", "type": "string"}]}
PATIENT = {"type": "record", "name": "Patient", "namespace": "std.acc", "fields": [
    {"name": "id", "type": "string"},
    {"name": "gender", "type": {"type": "enum", "name": "Gender", "symbols": ["male", "female", "other", "unknown"]}},
    {"name": "birth_date", "type": {"type": "int", "logicalType": "date"}}]}
RULES = [
    {"target": "id", "sources": ["pid"], "fn": "rename", "args": {}},
    {"target": "gender", "sources": ["sex"], "fn": "code", "args": {"table": "hl7-gender"}},
    {"target": "birth_date", "sources": ["dob"], "fn": "date_parse",
     "args": {"formats": ["%Y%m%d"], "output": "epoch_days"}},
]


def value_schema(api, topic: dict, document: dict) -> dict:
    created = api.created("schemas/", {"topic": topic["id"], "side": "value", "format": "AVRO",
                                       "schema": json.dumps(document)})
    return api.wait_status(f"schemas/{created['id']}/")


def test_a_team_maps_its_admissions_into_the_canonical_patient(as_user, run):
    operator, bob = as_user("operator"), as_user("bob")
    answer = operator.post("teams/", {"slug": "std", "name": "Data governance", "contacts": "std@example.org"})
    assert answer.status_code in (201, 400), answer.text  # 400: an earlier journey of this run made it
    canonical = steps.topic(operator, name=f"std.{run}-patient", team="std")
    registered = value_schema(operator, canonical, PATIENT)
    marked = operator.created("canonical-topics/", {"cluster": "local", "topic": canonical["name"],
                                                   "description": "A patient, the HL7 way"})
    assert marked["team"] == "std"

    # a change of the standard waits for someone other than its author
    v2 = copy.deepcopy(PATIENT)
    v2["fields"].append({"name": "deceased", "type": "boolean", "default": False})
    held = operator.created("schemas/", {"topic": canonical["id"], "side": "value", "format": "AVRO",
                                         "schema": json.dumps(v2)}, expect=202)
    assert held["status"] == "pending", held

    source = steps.topic(bob, name=f"clinical.{run}-admissions", team="clinical")
    value_schema(bob, source, ADMISSION)
    table = bob.created("code-tables/", {"team": "clinical", "name": "hl7-gender",
                                         "entries": {"M": "male", "F": "female"}, "has_default": True,
                                         "default": "unknown"})
    assert table["version"] == 1

    body = {"team": "clinical", "cluster": "local", "name": f"{run}-admissions", "source_topic": source["name"],
            "canonical_topic": canonical["name"], "rules": RULES[:2]}
    refused = bob.post("mappings/", body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"] == {"targets.birth_date": ["required by the canonical schema, and no rule "
                                                               "fills it"]}

    preview = bob.post("mappings/preview/", {**body, "rules": RULES,
                                            "events": [{"pid": "p-1", "sex": "X", "dob": "19800102"}]})
    assert preview.status_code == 200, preview.text
    (result,) = preview.json()["results"]
    assert result["ok"] and result["output"] == {"id": "p-1", "gender": "unknown", "birth_date": 3653}
    assert result["provenance"]["birth_date"] == {"rule": 2, "fn": "date_parse", "sources": ["dob"]}

    mapping = bob.created("mappings/", {**body, "rules": RULES})
    assert mapping["mapping_id"] == f"clinical.{run}-admissions" and mapping["dlq_topic"] == f"{canonical['name']}.dlq"
    assert mapping["current_version"]["canonical_schema_version"] == registered["versions"][-1]["number"]
    assert mapping["current_version"]["code_tables"] == {"hl7-gender": 1}
    # the mappings run publishes it to the mapper's table
    bob.wait_status(f"mappings/{mapping['id']}/", timeout=120)

    bob.patch(f"code-tables/{table['id']}/", {"entries": {"M": "male", "F": "female", "O": "other"}})
    renewed = bob.patch(f"mappings/{mapping['id']}/", {"rules": RULES, "note": "other gender code"})
    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["current_version"]["number"], renewed.json()["current_version"]["code_tables"]) == (
        2, {"hl7-gender": 2})
    versions = bob.ok(f"mappings/{mapping['id']}/versions/")
    assert [v["number"] for v in versions] == [2, 1]
