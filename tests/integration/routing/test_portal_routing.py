"""From the portal to the data plane: two routed subscriptions on one source, applied by the access
reconciler as rules, split 1,000 Avro events between their destinations exactly as their filters say."""

import json
import uuid

import pytest

from onboarding.models import Subscription
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.routing import traffic
from onboarding.routing.decode import encode_avro
from onboarding.selectors import subscription_lag, subscription_traffic
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for
from tests.integration.routing.conftest import read_committed, source_offsets

# Not transactional: on-commit hooks never fire, so no worker elsewhere applies these rows; the
# reconcilers run here, on this test's rules topic.
pytestmark = pytest.mark.django_db

ADMISSION = {"type": "record", "name": "Admission", "namespace": "clinical.test", "fields": [
    {"name": "id", "type": "int"}, {"name": "ward", "type": "string"}, {"name": "age", "type": "int"}]}
WARDS = ["ICU", "Cardiology", "Maternity", "Oncology"]


def _events(count):
    return [{"id": i, "ward": WARDS[i % 4], "age": (i * 7) % 90} for i in range(count)]


@pytest.fixture
def registered_schema(registry_http, registry_url):
    subject = f"routing.portal-{uuid.uuid4().hex[:8]}-value"
    answer = registry_http.post(f"{registry_url}/subjects/{subject}/versions",
                                data=json.dumps({"schema": json.dumps(ADMISSION)}))
    assert answer.status_code == 200, answer.text
    yield answer.json()["id"]
    registry_http.delete(f"{registry_url}/subjects/{subject}")
    registry_http.delete(f"{registry_url}/subjects/{subject}?permanent=true")


@pytest.fixture
def cleanup_topics(kafka_admin):
    names = []
    yield names
    existing = set(kafka_admin.list_topics(timeout=10).topics)
    doomed = [n for n in names if n in existing]
    if doomed:
        for future in kafka_admin.delete_topics(doomed, operation_timeout=30).values():
            future.result(30)


def test_two_routed_subscriptions_split_avro_events_by_their_filters(
        settings, cluster, payments, alice, clinical, carol, routing_topics, producer, router_thread,
        registered_schema, cleanup_topics):
    settings.ROUTER_RULES_TOPIC = routing_topics("rules", compact=True)
    run = uuid.uuid4().hex[:8]
    source = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.admissions-{run}",
                          partitions=2, replication_factor=1)
    account, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"router-{run}")
    wanted = {"icu": "value.ward == 'ICU'", "adults": "value.age >= `18` && value.ward != 'Maternity'"}
    subscriptions = {
        name: subscription_request(actor=carol, subscriber=clinical, source=source, service_account=account,
                                   mode=Subscription.Mode.ROUTED, reason=f"{name} dashboards",
                                   destination_name=f"clinical.{name}-{run}", filter=expression, via="api")
        for name, expression in wanted.items()}
    cleanup_topics += [source.name] + [f"clinical.{n}-{run}" for n in wanted] + [
        f"clinical.{n}-{run}.dlq" for n in wanted]
    assert all(s.decision == Subscription.Decision.APPROVED for s in subscriptions.values())

    reconcile_cluster(cluster.pk)   # source and destination topics
    reconcile_access(cluster.pk)    # SCRAM user, ACLs, and the two rules with their dead-letter topics
    for subscription in subscriptions.values():
        subscription.refresh_from_db()
        assert subscription.status == "ready", subscription.last_error

    for subscription in subscriptions.values():
        traffic.reset(subscription.pk)  # ids restart with every test database; the counters live in Redis
    router_thread(f"portal-router-{run}", settings.ROUTER_RULES_TOPIC)
    events = _events(1000)
    for event in events:
        producer.produce(source.name, key=str(event["id"]).encode(),
                         value=encode_avro(registered_schema, json.dumps(ADMISSION), event))
    assert producer.flush(30) == 0

    expected = {
        "icu": {e["id"] for e in events if e["ward"] == "ICU"},
        "adults": {e["id"] for e in events if e["age"] >= 18 and e["ward"] != "Maternity"},
    }
    for name, ids in expected.items():
        records = read_committed(f"clinical.{name}-{run}", expect=len(ids), timeout=90)
        assert sorted(int(r["key"]) for r in records) == sorted(ids), f"{name}: wrong or duplicated events"
        assert len(set(source_offsets(records))) == len(records)
        assert {r["headers"]["route.subscription"] for r in records} == {str(subscriptions[name].pk)}

    # What the subscription page shows: the routers' committed counts and the routers' lag on the source.
    for name, ids in expected.items():
        wait_for(lambda s=subscriptions[name], n=len(ids): traffic.read_counts(s.pk)["routed"] == n, timeout=10,
                 message=f"{name}'s routed count")
        counts = traffic.read_counts(subscriptions[name].pk)
        assert counts["filtered_out"] == 1000 - len(ids) and counts["dead_lettered"] == 0
    settings.ROUTER_GROUP_ID = f"portal-router-{run}"
    wait_for(lambda: subscription_lag(subscriptions["icu"]) == 0, timeout=20, message="the routers to catch up")
    assert ("Routed", len(expected["icu"])) in subscription_traffic(subscriptions["icu"])
