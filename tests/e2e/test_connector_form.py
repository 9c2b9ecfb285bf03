"""alice declares a MongoDB sink through the connector form: Kafka Connect's own error about a config key shows
beside the config box and nothing is saved; she fixes it and the connector page reads the config back."""

import pytest
from playwright.sync_api import expect

from onboarding import queue
from onboarding.models import Connector
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.browser import log_in
from tests.fixtures.eventstore import event_store_uri

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"


@pytest.fixture(autouse=True)
def no_reconcile(monkeypatch):
    """No worker runs here: keep the queued reconcile runs out of the shared broker."""
    monkeypatch.setattr(queue, "_enqueue", lambda *args, **kwargs: None)


def test_connects_field_error_shows_beside_the_config(page, live_server, alice, cluster, payments, unique):
    cluster.connect_allowed_classes = [MONGO_SINK]
    cluster.save(update_fields=["connect_allowed_classes"])
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.orders-{unique}",
                         partitions=1, replication_factor=1)
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/teams/payments/")
    page.get_by_test_id("team-connectors").get_by_role("link", name="New connector").click()

    page.fill("#id_name", "orders-store")
    page.select_option("#id_connector_class", MONGO_SINK)
    page.fill("#id_config", f"topics={topic.name}\nconnection.uri={event_store_uri()}\ndatabase=orders\n"
                            "tasks.max=several")
    page.get_by_role("button", name="Declare connector").click()

    expect(page.locator("#err-config")).to_contain_text("tasks.max: Invalid value several")
    page.screenshot(path="/tmp/connector_form_error.png", full_page=True)
    assert not Connector.objects.exists()

    page.fill("#id_config", f"topics={topic.name}\nconnection.uri={event_store_uri()}\ndatabase=orders\ntasks.max=1")
    page.get_by_role("button", name="Declare connector").click()
    expect(page.get_by_role("heading", name="payments.orders-store")).to_be_visible()
    expect(page.get_by_test_id("config")).to_contain_text(topic.name)
    expect(page.get_by_test_id("status-badge")).to_have_text("Pending")
    assert Connector.objects.get().config["tasks.max"] == "1"
