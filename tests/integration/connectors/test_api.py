"""/api/v1/connectors/ on Postgres and the real Connect worker (its validate endpoint): Connect's field errors
keyed config.<key>, the portal's own rules, permissions (viewers read, outsiders see nothing), the actions'
routes; bad input is a 4xx, never a 500."""

import pytest

from onboarding.models import Connector
from tests.fixtures.eventstore import event_store_uri
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]
CONNECTORS = "/api/v1/connectors/"
MONGO_SINK = "com.mongodb.kafka.connect.MongoSinkConnector"


@pytest.fixture
def topic(cluster, alice, payments):
    cluster.connect_allowed_classes = [MONGO_SINK]
    cluster.save(update_fields=["connect_allowed_classes"])
    return make_topic(alice, cluster, payments, name="payments.orders")


def body(**overrides) -> dict:
    values = {"team": "payments", "cluster": "local", "name": "orders-store", "connector_class": MONGO_SINK,
              "config": {"topics": "payments.orders", "connection.uri": event_store_uri(), "database": "orders",
                         "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                         "value.converter.schemas.enable": "false"}}
    values.update(overrides)
    return values


def test_declare_read_change_and_delete(api_as, alice, vera, carol, topic):
    answer = api_as(alice).post(CONNECTORS, body(), format="json")
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert (made["connector_name"], made["status"], made["desired_state"]) == (
        "payments.orders-store", "pending", "running")
    url = f"{CONNECTORS}{made['id']}/"

    assert api_as(vera).get(url).status_code == 200
    assert api_as(carol).get(url).status_code == 404
    assert api_as(carol).get(CONNECTORS).json()["results"] == []
    assert api_as(vera).post(f"{url}pause/").status_code == 403

    paused = api_as(alice).post(f"{url}pause/")
    assert paused.status_code == 200 and paused.json()["desired_state"] == "paused"
    changed = api_as(alice).patch(url, {"config": {**body()["config"], "database": "orders2"}, "generation": 2},
                                  format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["config"]["database"] == "orders2"
    assert api_as(alice).patch(url, {"description": "x", "generation": 1}, format="json").status_code == 409

    # The worker has no such connector yet: its offsets are an empty list and its words.
    offsets = api_as(alice).get(f"{url}offsets/")
    assert offsets.status_code == 200 and offsets.json()["offsets"] == []
    reset = api_as(alice).post(f"{url}offsets/", {}, format="json")
    assert reset.status_code == 400 and "Stop the connector first" in reset.json()["errors"]["non_field_errors"][0]

    gone = api_as(alice).delete(url)
    assert gone.status_code == 202 and gone.json()["status"] == "deleting"
    assert api_as(alice).delete(url).status_code == 400


def test_connects_own_errors_come_back_by_config_key_and_nothing_is_saved(api_as, alice, topic):
    answer = api_as(alice).post(CONNECTORS, body(config={**body()["config"], "tasks.max": "several",
                                                         "database": ""}), format="json")
    assert answer.status_code == 400, answer.content
    errors = answer.json()["errors"]
    assert set(errors) == {"config.tasks.max", "config.database"}
    assert "several" in errors["config.tasks.max"][0]
    assert not Connector.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"config": {"topics": "clinical.secret", "database": "x"}}, "config.topics"),
    ({"config": {"topics": "payments.orders", "connection.password": "hunter2hunter2"}}, "config.connection.password"),
    ({"config": {"topics": "payments.orders", "connection.uri": "mongodb://u:pw@h/"}}, "config.connection.uri"),
    ({"secret_refs": {"connection.uri": "mongodb://u:pw@h/"}}, "secret_refs.connection.uri"),
    ({"connector_class": "org.example.Evil"}, "connector_class"),
    ({"name": "Bad Name"}, "name"),
    ({"config": "topics=payments.orders"}, "config"),
    ({"config": {"topics": "payments.orders", "name": "other"}}, "config.name"),
    ({"team": "nobody"}, "team"),
    ({"cluster": "nowhere"}, "cluster"),
    ({"desired_state": "flying"}, "desired_state"),
])
def test_the_portals_rules_refuse_per_field(api_as, alice, topic, overrides, field):
    answer = api_as(alice).post(CONNECTORS, body(**overrides), format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]
    assert not Connector.objects.exists()


def test_an_outsider_cannot_declare_for_the_team(api_as, carol, topic):
    assert api_as(carol).post(CONNECTORS, body(), format="json").status_code == 403


@pytest.mark.parametrize("payload", [[], "x", {"config": None}, {"config": [1]}, {"secret_refs": "x"},
                                     {"name": 7, "config": {}}, {"config": {"topics": {"a": 1}}}])
def test_hostile_bodies_are_4xx(api_as, alice, topic, payload):
    answer = api_as(alice).post(CONNECTORS, payload if not isinstance(payload, dict) else body(**payload),
                                format="json")
    assert 400 <= answer.status_code < 500, answer.content
