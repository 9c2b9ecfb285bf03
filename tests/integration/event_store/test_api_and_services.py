"""/api/v1/topics/{id}/event-store/ and the event store services on Postgres (no worker needed): only the
topic's owning team binds it, field errors for bad input (never a 500), one binding per topic, optimistic
concurrency, audit, gating by the cluster's change policy, and the sink config the run will write."""

import pytest

from onboarding.changes.gate import change_policy_for
from onboarding.changes.requests import change_request_approve
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, EventStoreBinding
from onboarding.reconcile.event_store_plan import connector_config
from onboarding.selectors.event_store import binding_for, collection_for
from onboarding.services.event_store import event_store_bind, event_store_unbind, event_store_update
from tests.fixtures.eventstore import event_store_uri
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def store_settings(settings):
    settings.EVENT_STORE_URI = settings.EVENT_STORE_CONNECT_URI = event_store_uri()
    settings.EVENT_STORE_DATABASE = "events"


@pytest.fixture
def topic(cluster, alice, payments):
    return make_topic(alice, cluster, payments, name="payments.orders", partitions=6)


def url(topic) -> str:
    return f"/api/v1/topics/{topic.pk}/event-store/"


def test_the_owning_team_binds_reads_changes_and_unbinds(api_as, alice, vera, carol, topic):
    assert api_as(alice).get(url(topic)).status_code == 404
    answer = api_as(alice).put(url(topic), {"mode": "log", "retention_days": 30,
                                            "indexed_fields": ["customer.id", "status"]}, format="json")
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert (made["topic"], made["team"], made["mode"], made["status"], made["database"], made["collection"],
            made["connector_name"], made["dead_letter_topic"]) == (
        "payments.orders", "payments", "log", "pending", "events_local", "payments.orders",
        "_event-store.payments.orders", "payments.orders.dlq")

    assert api_as(vera).get(url(topic)).status_code == 200
    assert api_as(vera).patch(url(topic), {"retention_days": 1}, format="json").status_code == 403
    assert api_as(carol).put(url(topic), {"mode": "table"}, format="json").status_code == 403
    assert api_as(carol).get(url(topic)).status_code == 404

    changed = api_as(alice).patch(url(topic), {"mode": "table", "generation": made["generation"]}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["mode"] == "table" and changed.json()["generation"] == made["generation"] + 1
    stale = api_as(alice).patch(url(topic), {"retention_days": 2, "generation": made["generation"]}, format="json")
    assert stale.status_code == 409

    assert AuditEvent.objects.filter(action__in=["event_store.bind", "event_store.update"]).count() == 2
    gone = api_as(alice).delete(url(topic))
    assert gone.status_code == 202 and gone.json()["status"] == "deleting"
    assert api_as(alice).delete(url(topic)).status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    ({"mode": "stream"}, "mode"),
    ({"retention_days": 0}, "retention_days"),
    ({"retention_days": "soon"}, "retention_days"),
    ({"indexed_fields": ["$where"]}, "indexed_fields"),
    ({"indexed_fields": ["_id"]}, "indexed_fields"),
    ({"indexed_fields": ["a", "a"]}, "indexed_fields"),
    ({"indexed_fields": "customer"}, "indexed_fields"),
    ({"indexed_fields": [f"f{i}" for i in range(17)]}, "indexed_fields"),
    ({"partitions": 3}, "partitions"),
])
def test_bad_input_is_a_field_error(api_as, alice, topic, body, field):
    answer = api_as(alice).put(url(topic), body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]
    assert not EventStoreBinding.objects.exists()


def test_one_binding_per_topic_and_only_the_owning_team(alice, carol, topic):
    event_store_bind(actor=alice, topic=topic)
    with pytest.raises(ValidationError) as taken:
        event_store_bind(actor=alice, topic=topic, mode="table")
    assert "already kept" in taken.value.message_dict["topic"][0]
    with pytest.raises(PermissionDenied):
        event_store_update(actor=carol, binding=binding_for(topic), retention_days=3)


def test_no_store_configured_is_said_plainly(settings, alice, topic):
    settings.EVENT_STORE_URI = ""
    with pytest.raises(ValidationError) as refused:
        event_store_bind(actor=alice, topic=topic)
    assert "no event store" in refused.value.message_dict["__all__"][0]


def test_bind_change_and_unbind_wait_for_approval_when_gated(alice, operator, cluster, topic):
    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["event_store.bind", "event_store.update", "event_store.unbind"]
    policy.save()

    opened = event_store_bind(actor=alice, topic=topic, mode="table", indexed_fields=["customer"])
    assert isinstance(opened, ChangeRequest) and not EventStoreBinding.objects.exists()
    assert opened.plan["steps"][0]["summary"] == "Keep payments.orders in the event store (table)"
    assert change_request_approve(actor=operator, change_request=opened, comment="", via="browser").status == \
        ChangeRequest.Status.APPLIED
    binding = binding_for(topic)
    assert (binding.mode, binding.indexed_fields) == ("table", ["customer"])

    opened = event_store_update(actor=alice, binding=binding, retention_days=7)
    assert isinstance(opened, ChangeRequest)
    change_request_approve(actor=operator, change_request=opened, comment="", via="browser")
    assert binding_for(topic).retention_days == 7

    opened = event_store_unbind(actor=alice, binding=binding_for(topic))
    assert "drop the collection payments.orders" in opened.plan["steps"][0]["actions"][1]
    change_request_approve(actor=operator, change_request=opened, comment="", via="browser")
    assert binding_for(topic).status == "deleting"


def test_the_sink_config_and_where_the_documents_are(alice, topic):
    log = event_store_bind(actor=alice, topic=topic, mode="log")
    config = connector_config(log)
    # A log is inserted in bulks of a poll's worth; a table's upserts stay within what FerretDB takes.
    assert config["tasks.max"] == "1" and config["max.batch.size"] == "500"
    assert config["writemodel.strategy"].endswith("InsertOneDefaultStrategy")
    assert (config["errors.tolerance"], config["errors.deadletterqueue.topic.name"],
            config["errors.deadletterqueue.context.headers.enable"]) == ("all", "payments.orders.dlq", "true")
    assert config["value.converter"] == config["key.converter"] == "portal.aggregator.connect.RegistryConverter"
    assert config["transforms.document.mode"] == "log" and config["delete.on.null.values"] == "false"
    assert config["transforms.document.indexed"] == ""
    assert config["document.id.strategy"].endswith("ProvidedInKeyStrategy")
    assert collection_for(log) == collection_for(binding_for(topic))
    assert (collection_for(log).database, collection_for(log).collection) == ("events_local", "payments.orders")

    table = event_store_update(actor=alice, binding=log, mode="table", indexed_fields=["customer", "order.id"])
    config = connector_config(table)
    # The sink writes a top-level copy of each indexed field (the indexes are on those copies).
    assert config["transforms.document.indexed"] == "value.customer,value.order.id"
    assert config["delete.on.null.values"] == "true"
    assert config["delete.writemodel.strategy"].endswith("DeleteOneDefaultStrategy")
    assert int(config["max.batch.size"]) <= 40 and config["max.batch.size"] == "20"


def test_deleting_the_topic_stops_keeping_it(alice, topic):
    from onboarding.services.topics import topic_delete

    event_store_bind(actor=alice, topic=topic)
    topic_delete(actor=alice, topic=topic, confirm_name=topic.name)

    assert binding_for(topic).status == "deleting"
    assert AuditEvent.objects.filter(action="event_store.unbind", note__contains="was deleted").exists()
