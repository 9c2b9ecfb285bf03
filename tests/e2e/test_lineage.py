"""In a real browser: the topic page draws its lineage, a field is tagged PHI from the select beside it (htmx),
and a peek shows the last events with that field masked."""

import json
import time

import pytest
from confluent_kafka import Producer
from django.conf import settings
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import ResourceStatus
from onboarding.reconcile.schemas import reconcile_schemas
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.routing.decode import encode_avro
from onboarding.services.schemas import schema_version_submit
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import htmx_settled, log_in
from tests.integration.api.conftest import subjects  # noqa: F401  (fixture)
from tests.integration.lineage.conftest import lineage_world  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PATIENT = {"type": "record", "name": "Billed", "namespace": "payments.e2e", "fields": [
    {"name": "id", "type": "string"},
    {"name": "patient", "type": {"type": "record", "name": "Patient", "fields": [
        {"name": "name", "type": "string", "doc": "Full name"}, {"name": "ssn", "type": "string"}]}}]}


@pytest.fixture(autouse=True)
def no_queued_runs(monkeypatch):
    """No worker runs here: the test applies what it needs in this process."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def test_lineage_tagging_and_peek_in_the_browser(page, live_server, alice, cluster, lineage_world,  # noqa: F811
                                                 subjects):  # noqa: F811
    orders = lineage_world["orders"]
    reconcile_cluster(cluster.pk)
    orders.refresh_from_db()
    assert orders.status == ResourceStatus.READY, orders.last_error
    version = schema_version_submit(actor=alice, topic=orders, side="value", fmt="AVRO", text=json.dumps(PATIENT))
    subjects.append(version.schema.subject)
    reconcile_schemas(cluster.pk)
    version.refresh_from_db()
    producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
    stamp = int(time.time() * 1000)
    for i in range(3):
        value = {"id": f"b{i}", "patient": {"name": f"Patient {i}", "ssn": f"999-00-{i}"}}
        producer.produce(orders.name, value=encode_avro(version.registry_id, version.text, value), timestamp=stamp + i)
    assert producer.flush(15) == 0

    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/topics/{orders.pk}/")
    lineage = page.get_by_test_id("lineage")
    expect(lineage.locator("svg g.node")).to_have_count(5)
    expect(lineage.locator("svg g.node.private")).to_contain_text("a private topic")
    expect(lineage.locator("svg g.node.center")).to_contain_text(orders.name)

    page.get_by_role("tab", name="Schemas").click()
    htmx_settled(page)
    page.select_option('tr[data-path="patient.ssn"] select', "phi")
    expect(page.locator('tr[data-path="patient.ssn"] [data-testid=sensitive-badge]')).to_have_text("PHI")
    expect(page.locator('tr[data-path="patient.name"] [data-testid=sensitive-badge]')).to_have_count(0)

    page.get_by_role("tab", name="Events").click()
    htmx_settled(page)
    page.fill("#peek-limit", "2")
    page.get_by_role("button", name="Peek").click()
    result = page.get_by_test_id("peek-result")
    expect(result.get_by_test_id("peek-value")).to_have_count(2)
    expect(result).to_contain_text("[PHI]")
    expect(result).to_contain_text("Patient 2")
    expect(result).not_to_contain_text("999-00-")
    page.screenshot(path="/tmp/lineage_topic_page.png", full_page=True)
