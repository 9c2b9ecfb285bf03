"""The golden corpus: two acquired systems (an Avro HL7-like feed, a JSON Schema clinic export), with different
field names, date formats and code values, mapped to one canonical patient schema and checked by preview with
the portal's own event checks."""

import json

import pytest

from onboarding.mapping.compiler import compile_mapping
from onboarding.mapping.preview import preview
from onboarding.mapping.rules import MappingError, loads

from . import golden, golden_text

CANONICAL = (golden_text("std_patient.avsc"), "AVRO")
TABLES = golden("code_tables.json")
SYSTEMS = {"lab_a": (golden_text("lab_a.avsc"), "AVRO"), "clinic_b": (golden_text("clinic_b.schema.json"), "JSON")}


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_golden_outputs(system):
    mapping = compile_mapping(loads(golden_text(f"{system}.rules.json")), TABLES)
    assert [mapping(e) for e in golden(f"{system}.events.json")] == golden(f"{system}.expected.json")


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_golden_preview_is_valid_canonical_with_provenance(system):
    results = preview(loads(golden_text(f"{system}.rules.json")), golden(f"{system}.events.json"), SYSTEMS[system],
                      CANONICAL, TABLES)
    assert [r.to_json()["problems"] for r in results] == [{}, {}, {}]
    assert [r.source_problems for r in results] == [{}, {}, {}]
    assert all(r.ok for r in results)
    assert set(results[0].provenance) == {"patient.id", "patient.name.family", "patient.name.given",
                                          "patient.birth_date", "patient.gender", "patient.weight_kg",
                                          "patient.height_cm", "patient.deceased", "meta.source_system",
                                          "meta.admitted_at"}
    json.dumps([r.to_json() for r in results])  # what a preview page or API answers with


def test_preview_reports_canonical_problems_by_path_and_source_problems():
    rules = loads(golden_text("lab_a.rules.json"))
    rules = [r for r in rules if r.target != "patient.gender"]
    event = {**golden("lab_a.events.json")[0], "extra": 1}
    (result,) = preview(rules, [event], SYSTEMS["lab_a"], CANONICAL, TABLES)
    assert result.problems == {"patient.gender": ["missing required field (no default)"]}
    assert list(result.source_problems) == ["extra"]
    assert not result.ok


def test_preview_of_an_unknown_code_carries_the_dead_letter_headers():
    event = {**golden("clinic_b.events.json")[0], "genderCode": "7"}
    (result,) = preview(loads(golden_text("clinic_b.rules.json")), [event], SYSTEMS["clinic_b"], CANONICAL, TABLES)
    assert result.output is None
    assert result.error == {"map.error.rule": "4", "map.error.target": "patient.gender",
                            "map.error.source": "genderCode",
                            "map.error.message": "code '7' is not in table clinic_b_gender"}
    assert result.source_problems == {"genderCode": [result.source_problems["genderCode"][0]]}


def test_unknown_code_at_run_time():
    mapping = compile_mapping(loads(golden_text("clinic_b.rules.json")), TABLES)
    with pytest.raises(MappingError) as caught:
        mapping({**golden("clinic_b.events.json")[1], "genderCode": "0"})
    assert (caught.value.rule_index, caught.value.source) == (4, "genderCode")


def test_preview_validates_against_a_json_schema_canonical_too():
    canonical = json.dumps({"type": "object", "required": ["id"], "additionalProperties": False,
                            "properties": {"id": {"type": "string"}, "born": {"type": "string", "format": "date"}}})
    rules = loads(json.dumps([{"target": "id", "sources": ["PID.id"], "fn": "rename"},
                              {"target": "born", "sources": ["PID.dob"], "fn": "date_parse",
                               "args": {"formats": ["%Y%m%d"]}},
                              {"target": "note", "sources": [], "fn": "constant", "args": {"value": "x"}}]))
    (result,) = preview(rules, [golden("lab_a.events.json")[0]], SYSTEMS["lab_a"], (canonical, "JSON"), {})
    assert result.output == {"id": "A-1001", "born": "1980-01-31", "note": "x"}
    assert list(result.problems) == ["note"]
