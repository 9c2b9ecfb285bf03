"""The subscribe form's promise, routed mode: the service account the subscriber named reads the routed
copies from its own destination topic, as itself on the SCRAM listener, with no other grant."""

import json
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError

from onboarding.errors import ValidationError
from onboarding.models import Subscription
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.services.service_accounts import service_account_create, service_account_update
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.integration.access.conftest import account_cleanup, can_read, sasl_config  # noqa: F401 - fixture
from tests.integration.routing.conftest import produce_events
from tests.integration.routing.test_portal_routing import cleanup_topics  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("account_cleanup")]


def read_as(bootstrap, username, password, topic, *, group, expect, timeout=60.0, settle=2.0):
    """Every committed record of ``topic`` read through a consumer group of the subscriber's own prefix,
    as the account itself; fails on any error other than end-of-partition (authorization included)."""
    consumer = Consumer({**sasl_config(bootstrap, username, password), "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed", "enable.partition.eof": False})
    records, deadline, last_new = [], time.monotonic() + timeout, time.monotonic()
    try:
        consumer.subscribe([topic])
        while time.monotonic() < deadline:
            for message in consumer.consume(num_messages=200, timeout=0.5):
                error = message.error()
                if error is not None and error.code() != KafkaError._PARTITION_EOF:
                    raise AssertionError(f"{username} cannot read {topic}: {error.name()}")
                if error is None:
                    records.append(message)
                    last_new = time.monotonic()
            if len(records) >= expect and time.monotonic() - last_new >= settle:
                break
        return records
    finally:
        consumer.close()


def test_the_routed_subscribers_own_account_reads_exactly_the_matching_events(
        settings, cluster, payments, alice, clinical, carol, routing_topics, producer, router_thread,
        cleanup_topics, kafka_sasl_bootstrap):  # noqa: F811 - fixtures imported above
    settings.ROUTER_RULES_TOPIC = routing_topics("rules", compact=True)
    run = uuid.uuid4().hex[:8]
    source = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.visits-{run}",
                          partitions=2, replication_factor=1)
    account, password = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"icu-{run}")
    destination = f"clinical.icu-visits-{run}"
    subscription = subscription_request(
        actor=carol, subscriber=clinical, source=source, service_account=account, mode=Subscription.Mode.ROUTED,
        reason="ICU dashboards", destination_name=destination, filter="value.ward == 'ICU'", via="api")
    cleanup_topics += [source.name, destination, f"{destination}.dlq"]
    assert subscription.decision == Subscription.Decision.APPROVED

    reconcile_cluster(cluster.pk)  # source and destination
    reconcile_access(cluster.pk)   # the account's credential and ACLs, the rule and its dead-letter topic
    subscription.refresh_from_db()
    account.refresh_from_db()
    assert (subscription.status, account.status) == ("ready", "ready"), (subscription.last_error,
                                                                         account.last_error)

    router_thread(f"portal-router-{run}", settings.ROUTER_RULES_TOPIC)
    events = [{"n": n, "ward": ["ICU", "Cardio", "Maternity"][n % 3]} for n in range(300)]
    produce_events(producer, source.name, events)

    wanted = sorted(e["n"] for e in events if e["ward"] == "ICU")
    records = read_as(kafka_sasl_bootstrap, account.username, password, destination,
                      group=f"clinical.dashboards-{run}", expect=len(wanted), timeout=90)
    assert sorted(json.loads(r.value())["n"] for r in records) == wanted, "wrong, missing or duplicated events"
    # The account reads its copies, not the source: routed mode grants nothing on the other team's topic.
    assert can_read(kafka_sasl_bootstrap, account.username, password, source.name,
                    f"clinical.peek-{run}") == "TOPIC_AUTHORIZATION_FAILED"


def test_an_account_that_only_produces_cannot_be_named_to_read_routed_copies(
        cluster, payments, alice, clinical, carol):
    source = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.p-{uuid.uuid4().hex[:8]}",
                          partitions=1, replication_factor=1)
    writer, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name="writer",
                                       can_consume_own_topics=False)
    with pytest.raises(ValidationError) as refused:
        subscription_request(actor=carol, subscriber=clinical, source=source, service_account=writer,
                             mode=Subscription.Mode.ROUTED, reason="copies", destination_name="clinical.copies",
                             via="api")
    assert "may not consume the team's own topics" in refused.value.message_dict["service_account"][0]

    reader, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name="reader")
    subscription_request(actor=carol, subscriber=clinical, source=source, service_account=reader,
                         mode=Subscription.Mode.ROUTED, reason="copies", destination_name="clinical.copies",
                         via="api")
    with pytest.raises(ValidationError) as kept:
        service_account_update(actor=carol, sa=reader, can_consume_own_topics=False)
    assert "clinical.copies" in kept.value.message_dict["can_consume_own_topics"][0]
