"""Mapping and code table pages on Postgres: the editor builds a rule list by picking fields and functions, shows
each refusal beside its rule or canonical field in the API's words, previews pasted events with provenance and
saves a version; the mapping page lists versions; an outsider sees nothing."""

import copy
import json

import pytest
from django.urls import reverse

from onboarding.models import Mapping
from tests.integration.mappings.helpers import EVENT, RULES

pytestmark = [pytest.mark.django_db]


def editor_data(**overrides) -> dict:
    data = {"team": "clinical", "cluster": "local", "name": "admissions-to-patient",
            "source_topic": "clinical.admissions", "canonical_topic": "std.patient", "rules": "[]", "recent": "0",
            "events": "", "fn": "rename", "args": "", "description": "", "note": ""}
    data.update(overrides)
    return data


def test_the_editor_adds_rules_from_picked_fields_and_shows_the_save_checks(client_for, carol, admissions,
                                                                            canonical, gender_table):
    browser = client_for(carol)
    url = reverse("onboarding:mapping_create")
    page = browser.get(url, {"cluster": "local", "source_topic": "clinical.admissions",
                             "canonical_topic": "std.patient"})
    assert page.status_code == 200
    assert b'value="weight_lb"' in page.content and b'value="birth_date"' in page.content
    added = browser.post(url, editor_data(op="add", pick_target="id", pick_source="pid", fn="rename"))
    rules = json.loads(added.context["form"].data["rules"])
    assert rules == [{"target": "id", "sources": ["pid"], "fn": "rename", "args": {}}]
    # the missing required fields stand beside the canonical fields, in the API's words
    assert "required by the canonical schema, and no rule fills it" in added.content.decode()
    added = browser.post(url, editor_data(op="add", rules=json.dumps(rules), pick_target="weight_kg",
                                          pick_source="sex", fn="unit", args='{"from": "lb", "to": "kg"}'))
    rows = added.context["rule_rows"]
    assert rows[1]["errors"] == ["unit needs a float or int source; sex is string"]
    refused = browser.post(url, editor_data(op="save", rules=json.dumps(json.loads(
        added.context["form"].data["rules"]))))
    assert refused.status_code == 400 and not Mapping.objects.exists()
    assert "unit needs a float or int source; sex is string" in refused.content.decode()


def test_the_editor_previews_pasted_events_and_saves_a_version(client_for, carol, admissions, canonical,
                                                               gender_table):
    browser = client_for(carol)
    url = reverse("onboarding:mapping_create")
    shown = browser.post(url, editor_data(op="preview", rules=json.dumps(RULES), events=json.dumps([EVENT])))
    (result,) = shown.context["results"]
    assert result["ok"] and {f["path"]: (f["rule"], f["sources"]) for f in result["fields"]}["gender"] == (1, "sex")
    assert "fits the canonical schema" in shown.content.decode()
    saved = browser.post(url, editor_data(op="save", rules=json.dumps(RULES)))
    mapping = Mapping.objects.get()
    assert saved.status_code == 302 and saved["Location"] == reverse("onboarding:mapping_detail", args=[mapping.pk])
    page = browser.get(saved["Location"])
    assert page.status_code == 200 and b"3 of 3 covered" in page.content

    rules = copy.deepcopy(RULES)
    edit = reverse("onboarding:mapping_edit", args=[mapping.pk])
    removed = browser.post(edit, editor_data(op="remove-4", rules=json.dumps(rules), generation="1"))
    assert [r["rule"]["target"] for r in removed.context["rule_rows"]][-1] == "weight_kg"
    saved = browser.post(edit, editor_data(op="save", rules=removed.context["form"].data["rules"], generation="1",
                                           note="no national id"))
    assert saved.status_code == 302
    assert Mapping.objects.get().current_version.number == 2


def test_an_outsider_sees_no_mapping_and_code_tables_are_listed(client_for, carol, alice, admissions, canonical,
                                                                gender_table):
    from onboarding.services.mappings import mapping_create
    mapping = mapping_create(actor=carol, team=admissions.team, name="m", source_topic=admissions,
                             canonical_topic=canonical, rules=RULES)
    assert client_for(alice).get(reverse("onboarding:mapping_detail", args=[mapping.pk])).status_code == 404
    assert client_for(alice).get(reverse("onboarding:mapping_edit", args=[mapping.pk])).status_code == 404
    tables = client_for(alice).get(reverse("onboarding:code_table_list"))
    assert b"hl7-gender" in tables.content
    refused = client_for(carol).post(reverse("onboarding:code_table_edit", args=[gender_table.pk]),
                                     {"entries": '{"M": ["x"]}', "description": ""})
    assert refused.status_code == 400
    assert "A value is a string, a number or true/false." in refused.content.decode()
