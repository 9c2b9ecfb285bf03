"""Connector pages on Postgres and the real Connect worker: the form shows Connect's own field error beside the
config and saves nothing; a declared connector's page shows its config, states, tasks and offsets; the actions
go through the services; the team page links them; an outsider sees nothing."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, Connector
from tests.fixtures.eventstore import event_store_uri
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]
MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"


@pytest.fixture
def allowed(cluster, alice, payments):
    cluster.connect_allowed_classes = [MONGO_SINK]
    cluster.save(update_fields=["connect_allowed_classes"])
    make_topic(alice, cluster, payments, name="payments.orders")
    return cluster


def form_data(payments, cluster, **overrides):
    data = {"team": payments.pk, "cluster": cluster.pk, "name": "orders-store", "connector_class": MONGO_SINK,
            "desired_state": "running",
            "config": f"topics=payments.orders\nconnection.uri={event_store_uri()}\ndatabase=orders\n",
            "secret_refs": ""}
    data.update(overrides)
    return data


def test_the_form_shows_connects_field_error_and_saves_nothing(client_for, alice, payments, allowed):
    page = client_for(alice).post(reverse("onboarding:connector_create"), form_data(
        payments, allowed, config="topics=payments.orders\nconnection.uri=http://nope\ndatabase=orders"))

    assert page.status_code == 400
    errors = page.context["form"].errors["config"]
    assert any(e.startswith("connection.uri:") and "mongodb://" in e for e in errors), errors
    assert not Connector.objects.exists()


def test_an_inline_secret_is_refused_beside_its_box(client_for, alice, payments, allowed):
    page = client_for(alice).post(reverse("onboarding:connector_create"), form_data(
        payments, allowed, secret_refs="connection.uri=mongodb://u:pw@h/"))
    assert page.status_code == 400
    assert page.context["form"].errors["secret_refs"][0].startswith("connection.uri: Give where the worker")


def test_declare_then_the_page_actions_and_the_team_page(client_for, alice, carol, payments, allowed):
    answer = client_for(alice).post(reverse("onboarding:connector_create"), form_data(payments, allowed))
    assert answer.status_code == 302, answer.context["form"].errors if answer.context else answer
    connector = Connector.objects.get(name="orders-store")
    url = reverse("onboarding:connector_detail", args=[connector.pk])

    page = client_for(alice).get(url)
    assert page.status_code == 200
    assert b"payments.orders-store" in page.content and b"connection.uri" in page.content
    assert page.context["offsets"] == [] and page.context["can_write"]

    client_for(alice).post(reverse("onboarding:connector_action", args=[connector.pk, "pause"]))
    assert Connector.objects.get(pk=connector.pk).desired_state == "paused"
    refused = client_for(alice).post(reverse("onboarding:connector_action", args=[connector.pk, "reset-offsets"]),
                                     follow=True)
    assert "Stop the connector first" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="connector.offsets").exists()

    team_page = client_for(alice).get(reverse("onboarding:team_detail", args=["payments"]))
    assert url.encode() in team_page.content
    assert client_for(carol).get(url).status_code == 404
    assert client_for(carol).post(reverse("onboarding:connector_action", args=[connector.pk, "delete"])
                                  ).status_code == 404
    listed = client_for(alice).get(reverse("onboarding:connector_list"))
    assert [c.pk for c in listed.context["page"].object_list] == [connector.pk]


def test_row_history_names_the_connector_and_belongs_to_its_team(client_for, alice, carol, payments, allowed):
    client_for(alice).post(reverse("onboarding:connector_create"), form_data(payments, allowed))
    connector = Connector.objects.get(name="orders-store")
    client_for(alice).post(reverse("onboarding:connector_action", args=[connector.pk, "pause"]))
    url = reverse("history:resource", args=["connector", connector.pk])

    page = client_for(alice).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "payments.orders-store" in text and "connector.create" in text and "connector.update" in text
    assert "paused" in text
    other = client_for(carol).get(url)
    assert other.status_code == 404 and "payments.orders-store" not in other.content.decode()
