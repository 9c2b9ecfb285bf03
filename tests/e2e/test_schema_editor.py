"""A team owner evolves a topic's value schema in a real browser, checked on the real Schema Registry.

The Celery worker registers every stored version; the page's status badge reaches Ready by itself.
A compatible change passes Check and Submit; an incompatible one is explained and refused, and
never reaches the registry.
"""

import json
import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from onboarding.models import Schema
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.fixtures.waiting import wait_for_status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

APPLY_TIMEOUT_MS = 60_000

V1 = {"type": "record", "name": "Admission", "namespace": "payments.e2e",
      "fields": [{"name": "patient_id", "type": "string"}, {"name": "ward", "type": "string"}]}
V2 = {**V1, "fields": V1["fields"] + [{"name": "bed", "type": ["null", "string"], "default": None}]}
V3 = {**V2, "fields": V2["fields"] + [{"name": "priority", "type": "int"}]}


def as_text(schema: dict) -> str:
    return json.dumps(schema, indent=2)


@pytest.fixture
def subject_cleanup(registry_http):
    """Subjects this test puts on the registry (shared between runs): soft-deleted, then for good."""
    subjects: list[str] = []
    yield subjects
    for subject in subjects:
        base = f"{settings.SCHEMA_REGISTRY_URL}/subjects/{subject}"
        registry_http.delete(base)
        registry_http.delete(f"{base}?permanent=true")


def expect_ready_without_reload(page):
    page.evaluate("window.__notReloaded = true")
    expect(page.get_by_test_id("status-badge")).to_have_text("Ready", timeout=APPLY_TIMEOUT_MS)
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded instead of refreshed by htmx"


def test_an_owner_adds_evolves_and_is_refused_an_incompatible_schema(page, live_server, celery_worker, alice, cluster,
                                                                    payments, topic_name, registry_http,
                                                                    subject_cleanup):
    topic = wait_for_status(topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("schemas")),
                            "ready")
    subject = f"{topic.name}-value"
    subject_cleanup.append(subject)
    log_in(page, live_server, "alice", PASSWORD)
    editor = page.locator("#id_text")

    # v1: a new subject, from the topic page.
    page.goto(f"{live_server.url}/topics/{topic.pk}/?tab=schemas")
    page.get_by_test_id("add-schema-value").click()
    page.wait_for_url(re.compile(rf"/topics/{topic.pk}/schemas/value/"))
    expect(page.get_by_test_id("no-schema")).to_be_visible()
    editor.fill(as_text(V1))
    page.locator("#id_note").fill("Admissions, first cut")
    page.get_by_role("button", name="Submit version").click()
    page.wait_for_url(f"{live_server.url}/topics/{topic.pk}/schemas/value/")
    expect_ready_without_reload(page)
    expect(page.get_by_test_id("registry-1")).to_contain_text("version 1")

    # v2: an optional field with a default is compatible under BACKWARD; Check shows it and the diff.
    editor.fill(as_text(V2))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.get_by_test_id("verdict")).to_contain_text("Compatible")
    expect(page.get_by_test_id("verdict")).to_contain_text("with v1 under BACKWARD")
    expect(page.locator("[data-testid=check-changes] li.change.added")).to_contain_text("bed")
    page.get_by_role("button", name="Submit version").click()
    page.wait_for_url(f"{live_server.url}/topics/{topic.pk}/schemas/value/")
    expect_ready_without_reload(page)
    expect(page.get_by_test_id("latest-version")).to_have_text("v2")

    # v3: a new field without a default would break readers of old events: explained, then refused.
    editor.fill(as_text(V3))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.get_by_test_id("verdict")).to_contain_text("Incompatible")
    expect(page.get_by_test_id("verdict")).to_contain_text("with v2 under BACKWARD")
    expect(page.get_by_test_id("reasons")).to_contain_text("priority")
    page.get_by_role("button", name="Submit version").click()
    expect(page.locator("#err-text")).to_contain_text("Incompatible with version 2 under BACKWARD")
    expect(page.locator("#err-text")).to_contain_text("priority")
    expect(editor).to_have_value(as_text(V3))

    assert list(Schema.objects.get(topic=topic, side="value").versions.values_list("number", flat=True)) == [1, 2]
    versions = registry_http.get(f"{settings.SCHEMA_REGISTRY_URL}/subjects/{subject}/versions")
    assert versions.status_code == 200, versions.text
    assert versions.json() == [1, 2]
