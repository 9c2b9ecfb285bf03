"""The topic page's event store section: loaded after the page for the team's members; the owning team keeps the
topic with the form (errors beside the fields, 400), changes it and stops; a viewer sees it without the form, an
outsider gets nothing."""

import pytest

from onboarding.selectors.event_store import binding_for
from tests.fixtures.actors import PASSWORD
from tests.fixtures.eventstore import event_store_uri
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def store_settings(settings):
    settings.EVENT_STORE_URI = settings.EVENT_STORE_CONNECT_URI = event_store_uri()


@pytest.fixture
def topic(cluster, alice, payments):
    return make_topic(alice, cluster, payments, name="payments.orders")


def section_url(topic) -> str:
    return f"/topics/{topic.pk}/event-store/binding/"


def test_the_owning_team_keeps_changes_and_stops(client, alice, topic):
    client.login(username="alice", password=PASSWORD)
    page = client.get(f"/topics/{topic.pk}/?tab=events").content.decode()
    assert section_url(topic) in page and 'data-testid="event-store-loading"' in page

    empty = client.get(section_url(topic), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="event-store-none"' in empty and 'data-testid="event-store-form"' in empty

    refused = client.post(section_url(topic), {"mode": "log", "retention_days": "soon",
                                               "indexed_fields": "customer.id, $where"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "whole number of days" in text and "Not valid: $where" in text
    assert binding_for(topic) is None

    saved = client.post(section_url(topic), {"mode": "table", "retention_days": "30",
                                             "indexed_fields": "customer.id, status"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 204 and saved["HX-Location"].endswith(f"/topics/{topic.pk}/?tab=events#event-store")
    binding = binding_for(topic)
    assert (binding.mode, binding.retention_days, binding.indexed_fields) == ("table", 30, ["customer.id", "status"])

    shown = client.get(section_url(topic), HTTP_HX_REQUEST="true").content.decode()
    assert "Table: the last event per key" in shown and "payments.orders.dlq" in shown
    assert 'hx-trigger="every 2s"' in shown  # pending: the section polls itself

    changed = client.post(section_url(topic), {"mode": "table", "retention_days": "",
                                               "indexed_fields": "status", "generation": binding.generation})
    assert changed.status_code == 302
    assert binding_for(topic).retention_days is None

    stopped = client.post(f"/topics/{topic.pk}/event-store/binding/unbind/")
    assert stopped.status_code == 302
    assert binding_for(topic).status == "deleting"


def test_a_viewer_sees_it_without_the_form_and_an_outsider_not_at_all(client, alice, vera, carol, topic):
    from onboarding.services.event_store import event_store_bind
    event_store_bind(actor=alice, topic=topic)

    client.login(username="vera", password=PASSWORD)
    shown = client.get(section_url(topic), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="event-store-mode"' in shown and 'data-testid="event-store-form"' not in shown
    assert client.post(section_url(topic), {"mode": "table"}).status_code == 403

    client.login(username="carol", password=PASSWORD)
    assert client.get(section_url(topic)).status_code == 404
