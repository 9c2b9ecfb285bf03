"""/api/v1/mappings/, /code-tables/ and /canonical-topics/ on Postgres: the save checks' errors by path, word for
word as the editor shows them, the preview with provenance, versions, permissions; bad input is a 4xx."""

import copy

import pytest

from tests.integration.mappings.helpers import EVENT, GENDER_CODES, RULES

pytestmark = [pytest.mark.django_db]
MAPPINGS = "/api/v1/mappings/"
TABLES = "/api/v1/code-tables/"


def body(**overrides) -> dict:
    values = {"team": "clinical", "cluster": "local", "name": "admissions-to-patient",
              "source_topic": "clinical.admissions", "canonical_topic": "std.patient", "rules": RULES}
    values.update(overrides)
    return values


def test_code_tables_are_created_versioned_and_refused_per_code(api_as, carol, alice, clinical):
    made = api_as(carol).post(TABLES, {"team": "clinical", "name": "hl7-gender", "entries": GENDER_CODES,
                                       "has_default": True, "default": "unknown"}, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["version"], made.json()["default"]) == (1, "unknown")
    url = f"{TABLES}{made.json()['id']}/"
    changed = api_as(carol).patch(url, {"entries": {**GENDER_CODES, "U": "unknown"}, "generation": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api_as(carol).patch(url, {"entries": GENDER_CODES, "generation": 1}, format="json")
    assert stale.status_code == 409
    refused = api_as(carol).patch(url, {"entries": {"M": [1]}}, format="json")
    assert refused.json() == {"errors": {"entries.M": ["A value is a string, a number or true/false."]}}
    assert api_as(alice).patch(url, {"entries": GENDER_CODES}, format="json").status_code == 403
    assert api_as(alice).get(url).json()["entries"]["U"] == "unknown"  # shared vocabulary: everyone reads it


def test_a_refused_save_answers_the_errors_by_rule_and_path(api_as, carol, admissions, canonical, gender_table):
    rules = copy.deepcopy(RULES)
    rules[3]["sources"] = ["sex"]
    del rules[2]
    answer = api_as(carol).post(MAPPINGS, body(rules=rules), format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "rules[2].sources[0]": ["unit needs a float or int source; sex is string"],
        "targets.birth_date": ["required by the canonical schema, and no rule fills it"]}
    not_a_list = api_as(carol).post(MAPPINGS, body(rules={"target": "id"}), format="json")
    assert not_a_list.json()["errors"] == {"rules": ["expected a list of rules"]}
    unknown = api_as(carol).post(MAPPINGS, body(canonical_topic="clinical.admissions"), format="json")
    assert unknown.json()["errors"] == {"canonical_topic": ["There is no canonical topic 'clinical.admissions' on "
                                                            "local."]}


def test_declare_read_new_version_versions_and_delete(api_as, carol, alice, admissions, canonical, gender_table):
    answer = api_as(carol).post(MAPPINGS, body(), format="json")
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert (made["mapping_id"], made["dlq_topic"], made["current_version"]["number"]) == (
        "clinical.admissions-to-patient", "std.patient.dlq", 1)
    assert made["current_version"]["code_tables"] == {"hl7-gender": 1}
    url = f"{MAPPINGS}{made['id']}/"
    assert api_as(alice).get(url).status_code == 404
    rules = copy.deepcopy(RULES)
    rules[4] = {"target": "national_id", "sources": [], "fn": "constant", "args": {"value": "hidden"}}
    changed = api_as(carol).patch(url, {"rules": rules, "note": "no ssn", "generation": 1}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["current_version"]["number"] == 2
    versions = api_as(carol).get(f"{url}versions/").json()
    assert [(v["number"], v["note"]) for v in versions] == [(2, "no ssn"), (1, "")]
    back = api_as(carol).post(f"{url}rollback/", {"version": 1}, format="json")
    assert back.status_code == 200 and back.json()["current_version"]["rules"] == RULES
    assert api_as(carol).delete(url).json()["status"] == "deleting"


def test_the_preview_shows_each_output_field_with_its_rule_and_source(api_as, carol, admissions, canonical,
                                                                      gender_table):
    answer = api_as(carol).post(f"{MAPPINGS}preview/", {**body(), "events": [EVENT, {**EVENT, "dob": "x"}]},
                                format="json")
    assert answer.status_code == 200, answer.content
    good, bad = answer.json()["results"]
    assert good["output"]["birth_date"] == 3653 and good["ok"]
    assert good["provenance"]["birth_date"] == {"rule": 2, "fn": "date_parse", "sources": ["dob"]}
    assert bad["error"]["map.error.target"] == "birth_date" and bad["output"] is None
    assert answer.json()["coverage"]["missing"] == []
    pasted_badly = api_as(carol).post(f"{MAPPINGS}preview/", {**body(), "events": "[{"}, format="json")
    assert pasted_badly.json()["errors"]["events"][0].startswith("Not JSON")


def test_canonical_topics_are_listed_and_marked_only_by_their_owners(api_as, gina, carol, canonical, cluster,
                                                                      governance):
    listed = api_as(carol).get("/api/v1/canonical-topics/").json()["results"]
    assert [(c["topic"], c["team"]) for c in listed] == [("std.patient", "std")]
    from tests.integration.subscriptions.helpers import make_topic
    make_topic(gina, cluster, governance, name="std.claim")
    refused = api_as(carol).post("/api/v1/canonical-topics/", {"cluster": "local", "topic": "std.claim"},
                                 format="json")
    assert refused.status_code == 403
    marked = api_as(gina).post("/api/v1/canonical-topics/", {"cluster": "local", "topic": "std.claim"},
                               format="json")
    assert marked.status_code == 201 and marked.json()["team"] == "std"
