"""The gateway's own principal on the real broker: an access run sets its SCRAM credential and exactly the ACLs
its grants need, revoking a token or a subscription takes them away, drift is put back, and Kafka itself
refuses the gateway's client config whatever no grant allows."""

import uuid

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from django.conf import settings as django_settings

from onboarding.models import ResourceStatus, Subscription, Topic
from onboarding.platform.connection import gateway_kafka_connection, kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.access_drift import check_access_drift
from onboarding.reconcile.gateway_access import gateway_written_topics
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_approve, subscription_request, subscription_revoke
from onboarding.services.tokens import team_token_create, token_revoke
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import apply, can_produce, can_read

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_cleanup")]


@pytest.fixture
def grants_topic():
    """The suite's grants table, not one of the test's own: a worker left running by an earlier test (whose
    environment names this table) plans the principal's ACLs from the same state as the runs here."""
    return django_settings.GATEWAY_GRANTS_TOPIC


def principal() -> str:
    return f"User:{django_settings.GATEWAY_KAFKA_USERNAME}"


def acl(resource_type, name, pattern, operation) -> AclSpec:
    return AclSpec(resource_type, name, pattern, principal(), operation)


def own_acls(grants_topic: str) -> set[AclSpec]:
    """What the principal has whatever its grants: its table, its transactional ids, the topics it writes."""
    txn = django_settings.GATEWAY_TRANSACTIONAL_ID_PREFIX
    acls = {acl("TOPIC", grants_topic, "LITERAL", "READ"), acl("TOPIC", grants_topic, "LITERAL", "DESCRIBE"),
            acl("GROUP", f"{django_settings.GATEWAY_KAFKA_USERNAME}.", "PREFIXED", "READ"),
            acl("TRANSACTIONAL_ID", txn, "PREFIXED", "WRITE"), acl("TRANSACTIONAL_ID", txn, "PREFIXED", "DESCRIBE")}
    for topic in gateway_written_topics():
        acls |= {acl("TOPIC", topic, "LITERAL", "WRITE"), acl("TOPIC", topic, "LITERAL", "DESCRIBE")}
    return acls


def acls_of_gateway(cluster) -> set[AclSpec]:
    return KafkaAcls(kafka_connection_for(cluster)).describe_acls(principal())


def settled_acls(cluster, expected: set[AclSpec]) -> set[AclSpec]:
    """The principal's ACLs once the broker shows ``expected``, else what it shows at the end of the wait (so
    the caller's comparison names the difference)."""
    seen = {}
    try:
        wait_for(lambda: seen.update(acls=acls_of_gateway(cluster)) or seen["acls"] == expected, timeout=30,
                 interval=0.2, message="the gateway principal's ACLs")
    except AssertionError:
        pass
    return seen["acls"]


def gateway_can_produce(topic: str) -> bool | str:
    """One record through the gateway's own client config (its principal on the SASL listener)."""
    connection = gateway_kafka_connection()
    return can_produce(connection.bootstrap_servers, connection.sasl_username, connection.sasl_password, topic)


def gateway_authenticates() -> bool:
    try:
        AdminClient(gateway_kafka_connection().client_config()).list_topics(timeout=5)
    except KafkaException:
        return False
    return True


def gateway_can_read(topic: str, group: str) -> bool | str:
    connection = gateway_kafka_connection()
    return can_read(connection.bootstrap_servers, connection.sasl_username, connection.sasl_password, topic, group)


def _token(actor, team, scope="write"):
    return team_token_create(actor=actor, team=team, name=f"gateway {uuid.uuid4().hex[:6]}", scope=scope,
                             via="api")


def test_an_access_run_gives_the_gateway_principal_exactly_the_acls_its_grants_need(
        cluster, payments, clinical, alice, carol, grants_topic, make_topic):
    _token(alice, payments)
    _token(alice, payments, scope="read")
    _token(carol, clinical, scope="read")
    ours = make_topic(f"payments.gwp-{uuid.uuid4().hex[:8]}")
    theirs = make_topic(f"clinical.gwp-{uuid.uuid4().hex[:8]}")
    uncovered = make_topic(f"research.gwp-{uuid.uuid4().hex[:8]}")

    report = reconcile_access(cluster.pk)

    assert report.retry_in is None, report.errors
    expected = own_acls(grants_topic) | {
        acl("TOPIC", "payments.", "PREFIXED", "WRITE"), acl("TOPIC", "payments.", "PREFIXED", "DESCRIBE"),
        acl("TOPIC", "payments.", "PREFIXED", "READ"), acl("GROUP", "payments.", "PREFIXED", "READ"),
        acl("TOPIC", "clinical.", "PREFIXED", "READ"), acl("TOPIC", "clinical.", "PREFIXED", "DESCRIBE"),
        acl("GROUP", "clinical.", "PREFIXED", "READ"),
    }
    assert settled_acls(cluster, expected) == expected
    # Kafka enforces them on the gateway's own connection: a write grant's topic takes records, a topic only
    # read grants cover and a topic no grant covers refuse them.
    assert wait_for(lambda: gateway_can_produce(ours) is True, timeout=30, message="a granted produce")
    assert gateway_can_produce(theirs) == "TOPIC_AUTHORIZATION_FAILED"
    assert gateway_can_produce(uncovered) == "TOPIC_AUTHORIZATION_FAILED"
    assert gateway_can_read(theirs, "clinical.gwp-reader") is True
    assert gateway_can_read(uncovered, "payments.gwp-reader") == "TOPIC_AUTHORIZATION_FAILED"
    assert gateway_can_read(theirs, "research.gwp-reader") == "GROUP_AUTHORIZATION_FAILED"

    assert reconcile_access(cluster.pk).retry_in is None
    assert acls_of_gateway(cluster) == expected, "a run with nothing changed changes nothing"


def test_revoking_the_last_write_token_takes_the_gateways_write_right_away(
        cluster, payments, alice, grants_topic, make_topic):
    writer, _ = _token(alice, payments)
    _token(alice, payments, scope="read")
    ours = make_topic(f"payments.gwp-{uuid.uuid4().hex[:8]}")
    reconcile_access(cluster.pk)
    assert wait_for(lambda: gateway_can_produce(ours) is True, timeout=30, message="a granted produce")

    assert token_revoke(actor=alice, token=writer, via="api")
    assert reconcile_access(cluster.pk).retry_in is None

    expected = own_acls(grants_topic) | {
        acl("TOPIC", "payments.", "PREFIXED", "READ"), acl("TOPIC", "payments.", "PREFIXED", "DESCRIBE"),
        acl("GROUP", "payments.", "PREFIXED", "READ")}
    assert settled_acls(cluster, expected) == expected
    assert wait_for(lambda: gateway_can_produce(ours) == "TOPIC_AUTHORIZATION_FAILED", timeout=30,
                    message="Kafka to refuse the gateway's write")


def test_without_tokens_the_gateway_may_only_read_its_grants(cluster, payments, alice, grants_topic):
    token, _ = _token(alice, payments)
    reconcile_access(cluster.pk)
    token_revoke(actor=alice, token=token, via="api")

    reconcile_access(cluster.pk)

    assert settled_acls(cluster, own_acls(grants_topic)) == own_acls(grants_topic)


def test_a_direct_subscription_lets_the_gateway_read_that_topic_until_it_is_revoked(
        cluster, payments, clinical, alice, carol, topic_name, grants_topic):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("gwp"), partitions=1,
                         replication_factor=1)
    topic_reconciler.reconcile_cluster(cluster.pk)
    Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
    topic.refresh_from_db()
    _token(carol, clinical, scope="read")
    sa, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"gw-{uuid.uuid4().hex[:6]}")
    sub = subscription_request(actor=carol, subscriber=clinical, source=topic, service_account=sa,
                               mode=Subscription.Mode.DIRECT, reason="lab results", via="api")
    apply(cluster, sa)
    literal = {acl("TOPIC", topic.name, "LITERAL", "READ"), acl("TOPIC", topic.name, "LITERAL", "DESCRIBE")}
    assert not literal & acls_of_gateway(cluster)
    assert gateway_can_read(topic.name, "clinical.gwp") == "TOPIC_AUTHORIZATION_FAILED"

    sub = subscription_approve(actor=alice, subscription=sub, comment="ok", via="api")
    assert apply(cluster, sub).status == ResourceStatus.READY, sub.last_error

    assert literal <= settled_acls(cluster, acls_of_gateway(cluster) | literal)
    assert wait_for(lambda: gateway_can_read(topic.name, "clinical.gwp") is True, timeout=30,
                    message="the gateway to read the subscribed topic")
    assert gateway_can_produce(topic.name) == "TOPIC_AUTHORIZATION_FAILED"

    subscription_revoke(actor=carol, subscription=sub, comment="done", via="api")
    assert apply(cluster, sub).status == ResourceStatus.DELETED, sub.last_error

    wait_for(lambda: not literal & acls_of_gateway(cluster), timeout=30, message="the literal READ to go")
    assert wait_for(lambda: gateway_can_read(topic.name, "clinical.gwp") == "TOPIC_AUTHORIZATION_FAILED",
                    timeout=30, message="Kafka to refuse the gateway's read")


def test_drift_of_the_gateway_principal_is_found_and_put_back(cluster, grants_topic):
    # No token: nothing queues a run a worker could take, so only the runs here touch the principal.
    reconcile_access(cluster.pk)
    admin = KafkaAcls(kafka_connection_for(cluster))
    planned = own_acls(grants_topic)
    assert settled_acls(cluster, planned) == planned
    added = acl("TOPIC", "clinical.", "PREFIXED", "WRITE")
    removed = acl("TOPIC", grants_topic, "LITERAL", "DESCRIBE")
    assert admin.create_acls([added]) == {added: None} and admin.delete_acls([removed]) == {removed: None}
    assert settled_acls(cluster, (planned | {added}) - {removed}) == (planned | {added}) - {removed}

    report = check_access_drift(cluster.pk)

    assert report.reverting == [f"gateway principal {principal()}"]
    assert reconcile_access(cluster.pk).retry_in is None
    assert settled_acls(cluster, planned) == planned
    assert check_access_drift(cluster.pk).reverting == []


def test_a_lost_credential_is_found_and_set_again(cluster, grants_topic):
    username = django_settings.GATEWAY_KAFKA_USERNAME
    reconcile_access(cluster.pk)
    admin = KafkaAcls(kafka_connection_for(cluster))
    admin.delete_scram(username)
    wait_for(lambda: username not in admin.scram_users([username]), timeout=30, message="the credential gone")

    assert check_access_drift(cluster.pk).reverting == [f"gateway principal {principal()}"]
    reconcile_access(cluster.pk)

    assert username in admin.scram_users([username])
    assert wait_for(lambda: gateway_authenticates(), timeout=30, message="the gateway to authenticate again")
