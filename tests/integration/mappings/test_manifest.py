"""Code tables and mappings in the team manifest: export, plan, apply through the services, idempotence, the save
checks' errors under the entry's path, a code table and the mapping that reads it in one manifest, and a
manifest without the sections leaving them alone."""

import copy

import pytest
import yaml

from onboarding.errors import ValidationError
from onboarding.gitops.service import manifest_apply, manifest_export, manifest_plan
from onboarding.models import CodeTable, Mapping
from tests.integration.mappings.helpers import GENDER_CODES, RULES

pytestmark = [pytest.mark.django_db]


def exported(team) -> dict:
    return yaml.safe_load(manifest_export(team=team))


def table_entry(**overrides) -> dict:
    return {"name": "hl7-gender", "entries": GENDER_CODES, "default": "unknown", **overrides}


def mapping_entry(**overrides) -> dict:
    return {"cluster": "local", "name": "admissions", "source_topic": "clinical.admissions",
            "canonical_topic": "std.patient", "rules": RULES, **overrides}


def test_a_code_table_and_its_mapping_apply_in_one_manifest_and_export_unchanged(carol, clinical, admissions,
                                                                                 canonical):
    document = {**exported(clinical), "code_tables": [table_entry()], "mappings": [mapping_entry()]}
    result = manifest_apply(actor=carol, team=clinical, document=document)
    assert [(r["op"], r["kind"]) for r in result.results] == [("create", "code_table"), ("create", "mapping")]
    mapping = Mapping.objects.get()
    assert [t.table.name for t in mapping.current_version.code_tables.all()] == ["hl7-gender"]

    again = exported(clinical)
    assert again["code_tables"] == [{**table_entry(), "description": ""}]
    assert again["mappings"] == [{**mapping_entry(), "description": ""}]
    plan = manifest_plan(actor=carol, team=clinical, document=again).plan
    assert plan.summary()["unchanged"] == len(plan.actions)

    changed = copy.deepcopy(again)
    changed["mappings"][0]["rules"][4] = {"target": "national_id", "fn": "constant", "args": {"value": "-"}}
    changed["code_tables"][0]["entries"]["X"] = "other"
    manifest_apply(actor=carol, team=clinical, document=changed)
    version = Mapping.objects.get().current_version
    assert version.number == 2 and version.rules[4]["fn"] == "constant"
    assert CodeTable.objects.get().latest.number == 2

    manifest_apply(actor=carol, team=clinical, document={**again, "mappings": []}, allow_deletes=True)
    assert Mapping.objects.get().status == "deleting"


def test_the_save_checks_come_back_under_the_entrys_path(carol, clinical, admissions, canonical, gender_table):
    rules = copy.deepcopy(RULES)
    rules[3]["sources"] = ["sex"]
    document = {**exported(clinical), "mappings": [mapping_entry(rules=rules[:2] + rules[3:])]}
    with pytest.raises(ValidationError) as caught:
        manifest_plan(actor=carol, team=clinical, document=document)
    assert caught.value.message_dict == {
        "mappings[0].rules[2].sources[0]": ["unit needs a float or int source; sex is string"],
        "mappings[0].targets.birth_date": ["required by the canonical schema, and no rule fills it"]}
    unknown_fn = {**exported(clinical), "mappings": [mapping_entry(rules=[{"target": "id", "fn": "eval"}])]}
    with pytest.raises(ValidationError) as caught:
        manifest_plan(actor=carol, team=clinical, document=unknown_fn)
    assert list(caught.value.message_dict) == ["mappings[0].rules[0].fn"]
    assert not Mapping.objects.exists()


def test_a_manifest_without_the_sections_keeps_them(carol, clinical, admissions, canonical, gender_table):
    manifest_apply(actor=carol, team=clinical, document={**exported(clinical), "mappings": [mapping_entry()]})
    document = exported(clinical)
    del document["mappings"], document["code_tables"]
    plan = manifest_plan(actor=carol, team=clinical, document=document).plan
    assert not [a for a in plan.actions if a.kind in ("mapping", "code_table")]
