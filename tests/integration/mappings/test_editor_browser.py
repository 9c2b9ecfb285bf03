"""carol builds a mapping in the editor with chromium: she picks canonical and source fields side by side and a
function, a wrong rule's error shows beside that rule, the live preview shows each output field with the rule and
source that made it, and saving lands on the mapping's page at version 1."""

import json

import pytest
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import Mapping
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import htmx_settled, log_in
from tests.integration.mappings.helpers import EVENT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCREENSHOT, ERROR_SCREENSHOT = "/tmp/mapping_editor.png", "/tmp/mapping_editor_error.png"


@pytest.fixture(autouse=True)
def no_reconcile(monkeypatch):
    """No worker runs here: keep the queued reconcile runs out of the shared broker."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def add_rule(page, target: str, source: str | None, fn: str, args: str = "") -> None:
    page.locator(f"#target-fields input[value='{target}']").check()
    if source:
        page.locator(f"#source-fields input[value='{source}']").check()
    page.select_option("#id_fn", fn)
    page.fill("#id_args", args)
    page.click("#add-rule")
    expect(page.locator("#rules tbody")).to_contain_text(target)
    htmx_settled(page)


def test_carol_builds_a_mapping_with_a_live_preview(page, live_server, carol, admissions, canonical, gender_table):
    log_in(page, live_server, "carol", PASSWORD)
    page.goto(f"{live_server.url}/mappings/")
    page.get_by_role("link", name="New mapping").click()
    page.fill("#id_name", "admissions-to-patient")
    page.select_option("#id_source_topic", "clinical.admissions")
    expect(page.locator("#source-fields")).to_contain_text("weight_lb")
    htmx_settled(page)
    page.select_option("#id_canonical_topic", "std.patient")
    expect(page.locator("#target-fields")).to_contain_text("birth_date")
    expect(page.locator("#target-fields li[data-path='birth_date']")).to_contain_text(
        "required by the canonical schema, and no rule fills it")

    add_rule(page, "id", "pid", "rename")
    add_rule(page, "gender", "sex", "code", '{"table": "hl7-gender"}')
    add_rule(page, "birth_date", "dob", "date_parse", '{"formats": ["%Y%m%d"], "output": "epoch_days"}')
    add_rule(page, "weight_kg", "sex", "unit", '{"from": "lb", "to": "kg"}')
    expect(page.locator("#rules tr[data-rule='3']")).to_contain_text("unit needs a float or int source; sex is string")
    expect(page.locator("#coverage")).to_contain_text("3 of 3 required fields covered")

    page.fill("#id_events", json.dumps(EVENT))
    expect(page.locator("#preview")).to_contain_text("rules[3] weight_kg from sex: ")
    page.screenshot(path=ERROR_SCREENSHOT, full_page=True)

    page.locator("#rules tr[data-rule='3']").get_by_role("button", name="Remove").click()
    expect(page.locator("#rules tr[data-rule='3']")).to_have_count(0)
    htmx_settled(page)
    add_rule(page, "weight_kg", "weight_lb", "unit", '{"from": "lb", "to": "kg", "digits": 1}')
    expect(page.locator("#preview")).to_contain_text("fits the canonical schema")
    provenance = page.locator("#preview table.provenance")
    expect(provenance.locator("tr", has_text="gender")).to_contain_text("#1 code")
    expect(provenance.locator("tr", has_text="weight_kg")).to_contain_text("68.0")
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.click("#save-mapping")
    expect(page.get_by_role("heading", name="clinical.admissions-to-patient")).to_be_visible()
    expect(page.locator("#coverage")).to_contain_text("3 of 3 covered")
    assert Mapping.objects.get().current_version.number == 1
