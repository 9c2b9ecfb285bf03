"""The router's own principal on the real broker: an access run sets its credential and exactly the ACLs of the
routing rules it writes, the router routes as that principal, and Kafka refuses it a topic no rule names."""

import json
import os
import secrets
import threading
import uuid

import pytest

from onboarding.models import Subscription
from onboarding.platform.connection import kafka_connection_for, router_kafka_connection
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.topics import reconcile_cluster
from onboarding.routing.principal import start_when_provisioned
from onboarding.routing.router import Router
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import can_produce, can_read
from tests.integration.routing.conftest import read_committed

# Not transactional: on-commit hooks never fire, so no worker elsewhere applies these rows.
pytestmark = pytest.mark.django_db


@pytest.fixture
def router_principal(settings, cluster, routing_topics):
    """The router principal of this test alone (its rules topic and group too), removed afterwards."""
    run = uuid.uuid4().hex[:8]
    settings.ROUTER_KAFKA_USERNAME = f"portal-router.t{run}"
    settings.ROUTER_KAFKA_PASSWORD = secrets.token_urlsafe(24)
    settings.ROUTER_KAFKA_BOOTSTRAP_SERVERS = os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"]
    settings.ROUTER_RULES_TOPIC = routing_topics("rules", compact=True)
    settings.ROUTER_GROUP_ID = f"portal-router-{run}"
    yield f"User:{settings.ROUTER_KAFKA_USERNAME}"
    admin = KafkaAcls(kafka_connection_for(cluster))
    admin.delete_acls(admin.describe_acls(f"User:{settings.ROUTER_KAFKA_USERNAME}"))
    admin.alter_scram(deletes=[settings.ROUTER_KAFKA_USERNAME])


@pytest.fixture
def cleanup_topics(kafka_admin):
    names = []
    yield names
    existing = set(kafka_admin.list_topics(timeout=10).topics)
    doomed = [n for n in names if n in existing]
    if doomed:
        for future in kafka_admin.delete_topics(doomed, operation_timeout=30).values():
            future.result(30)


def _as_router():
    connection = router_kafka_connection()
    return connection.bootstrap_servers, connection.sasl_username, connection.sasl_password


def test_the_router_runs_as_its_own_principal_with_exactly_the_acls_of_its_rules(
        settings, cluster, payments, alice, clinical, carol, router_principal, cleanup_topics, producer):
    run = uuid.uuid4().hex[:8]
    source = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.admissions-{run}",
                          partitions=1, replication_factor=1)
    unnamed = topic_create(actor=alice, cluster=cluster, team=payments, name=f"payments.unrouted-{run}",
                           partitions=1, replication_factor=1)
    account, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"rp-{run}")
    destination = f"clinical.icu-{run}"
    subscription_request(actor=carol, subscriber=clinical, source=source, service_account=account,
                         mode=Subscription.Mode.ROUTED, reason="ICU board", destination_name=destination,
                         filter="value.ward == 'ICU'", via="api")
    cleanup_topics += [source.name, unnamed.name, destination, f"{destination}.dlq"]
    reconcile_cluster(cluster.pk)
    report = reconcile_access(cluster.pk)
    assert "router-principal" not in report.errors, report.errors

    def acl(resource_type, name, pattern, operation):
        return AclSpec(resource_type, name, pattern, router_principal, operation)

    both = {"READ", "DESCRIBE"}
    expected = {acl("TOPIC", settings.ROUTER_RULES_TOPIC, "LITERAL", op) for op in both} | {
        acl("TOPIC", source.name, "LITERAL", op) for op in both} | {
        acl("TOPIC", topic, "LITERAL", op) for topic in (destination, f"{destination}.dlq")
        for op in ("WRITE", "DESCRIBE")} | {
        acl("GROUP", settings.ROUTER_GROUP_ID, "LITERAL", "READ"),
        acl("GROUP", f"{settings.ROUTER_KAFKA_USERNAME}.", "PREFIXED", "READ")} | {
        acl("TRANSACTIONAL_ID", settings.ROUTER_TRANSACTIONAL_ID_PREFIX, "PREFIXED", op)
        for op in ("WRITE", "DESCRIBE")}
    admin = KafkaAcls(kafka_connection_for(cluster))
    wait_for(lambda: admin.describe_acls(router_principal) == expected, timeout=30,
             message="the router principal's ACLs to be exactly its rules'")

    # It routes as that principal: read the source, write the destination, commit in transactions.
    connection = router_kafka_connection()
    router = start_when_provisioned(
        lambda: Router(kafka_config=connection.client_config(), own_group_prefix=f"{connection.sasl_username}."),
        timeout=60, username=connection.sasl_username)
    stop = threading.Event()
    thread = threading.Thread(target=router.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        for n, ward in enumerate(["ICU", "Cardio", "ICU"]):
            producer.produce(source.name, key=str(n).encode(), value=json.dumps({"n": n, "ward": ward}).encode())
        assert producer.flush(30) == 0
        records = read_committed(destination, expect=2, timeout=60)
        assert sorted(r["key"] for r in records) == [b"0", b"2"]
    finally:
        stop.set()
        thread.join(30)

    # Kafka itself refuses it a topic no rule names, and writing to the source it only reads.
    bootstrap, username, password = _as_router()
    assert can_produce(bootstrap, username, password, unnamed.name) == "TOPIC_AUTHORIZATION_FAILED"
    assert can_read(bootstrap, username, password, unnamed.name,
                    settings.ROUTER_GROUP_ID) == "TOPIC_AUTHORIZATION_FAILED"
    assert can_produce(bootstrap, username, password, source.name) == "TOPIC_AUTHORIZATION_FAILED"


def test_run_router_refuses_to_start_without_its_principal(settings):
    from django.core.management import CommandError, call_command

    settings.ROUTER_KAFKA_USERNAME = ""
    settings.ROUTER_KAFKA_PASSWORD = ""
    with pytest.raises(CommandError, match="ROUTER_KAFKA_USERNAME, ROUTER_KAFKA_PASSWORD"):
        call_command("run_router")
