"""Service accounts and subscriptions on the real broker: SCRAM users, ACLs and routing rules."""

import uuid

import pytest
from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType
from django.conf import settings

from onboarding.errors import ValidationError
from onboarding.models import AuditEvent, Cluster, ResourceStatus, Subscription, Topic
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access_drift import check_access_drift
from onboarding.routing.rules import RulesTableReader
from onboarding.services.service_accounts import (
    service_account_create,
    service_account_delete,
    service_account_rotate,
)
from onboarding.services.topics import topic_create
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import apply, authenticates, can_produce, can_read

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_cleanup")]


def _name(stem):
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def _payments_topic(cluster, payments, alice, topic_name):
    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("acc"), partitions=1,
                         replication_factor=1)
    topic_reconciler.reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY, topic.last_error
    return topic


def _subscribe(clinical, topic, sa, carol, *, mode=Subscription.Mode.DIRECT, destination=None):
    return Subscription.objects.create(subscriber=clinical, source=topic, service_account=sa, mode=mode,
                                       destination=destination, reason="test", requested_by=carol,
                                       decision=Subscription.Decision.APPROVED)


def _revoke(sub):
    """Through the service, as the subscriber's owner would: access is removed, the record kept."""
    from onboarding.services.subscriptions import subscription_revoke

    return subscription_revoke(actor=sub.requested_by, subscription=sub, comment="no longer needed", via="system")


def test_a_service_account_produces_to_its_teams_topics_and_cannot_read_other_teams(
        cluster, payments, alice, topic_name, broker_topics, kafka_sasl_bootstrap):
    topic = _payments_topic(cluster, payments, alice, topic_name)
    clinical_topic = broker_topics("clinical")
    sa, password = service_account_create(actor=alice, cluster=cluster, team=payments, name=_name("app"),
                                          via=AuditEvent.Via.API)
    assert sa.username.startswith("payments.app-") and sa.pending_secret
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    assert sa.pending_secret is None and sa.secret_set_at is not None
    audit = AuditEvent.objects.get(action="service_account.create")
    assert password not in str(audit.after) and password not in audit.note

    assert wait_for(lambda: can_produce(kafka_sasl_bootstrap, sa.username, password, topic.name) is True,
                    timeout=20, message="produce allowed")
    assert can_read(kafka_sasl_bootstrap, sa.username, password, clinical_topic,
                    f"payments.g-{uuid.uuid4().hex[:6]}") == "TOPIC_AUTHORIZATION_FAILED"
    assert can_read(kafka_sasl_bootstrap, sa.username, password, topic.name,
                    f"payments.g-{uuid.uuid4().hex[:6]}") is True


def test_an_account_that_only_produces_reads_its_teams_topics_once_allowed(
        cluster, payments, alice, topic_name, kafka_sasl_bootstrap):
    from onboarding.services.service_accounts import service_account_update

    topic = _payments_topic(cluster, payments, alice, topic_name)
    sa, password = service_account_create(actor=alice, cluster=cluster, team=payments, name=_name("writer"),
                                          can_consume_own_topics=False)
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    group = f"payments.g-{uuid.uuid4().hex[:6]}"
    assert wait_for(lambda: can_produce(kafka_sasl_bootstrap, sa.username, password, topic.name) is True,
                    timeout=20, message="produce allowed")
    assert can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) == "TOPIC_AUTHORIZATION_FAILED"

    generation = sa.generation
    sa = service_account_update(actor=alice, sa=sa, can_consume_own_topics=True, via=AuditEvent.Via.API)
    assert sa.generation == generation + 1
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    assert wait_for(lambda: can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) is True,
                    timeout=20, message="read allowed")
    assert AuditEvent.objects.filter(action="service_account.update", resource_id=str(sa.pk)).exists()


def test_an_outsider_cannot_create_a_service_account_for_a_team(cluster, payments, carol):
    from onboarding.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        service_account_create(actor=carol, cluster=cluster, team=payments, name="intruder")


def test_an_approved_direct_subscription_grants_read_until_it_is_revoked(
        cluster, payments, clinical, alice, carol, topic_name, kafka_sasl_bootstrap):
    topic = _payments_topic(cluster, payments, alice, topic_name)
    sa, password = service_account_create(actor=carol, cluster=cluster, team=clinical, name=_name("reader"))
    apply(cluster, sa)
    group = f"clinical.g-{uuid.uuid4().hex[:6]}"
    assert can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) == "TOPIC_AUTHORIZATION_FAILED"

    # Through the services: the topic's owners must approve, so the request alone grants nothing.
    from onboarding.models import Topic
    from onboarding.services.subscriptions import subscription_approve, subscription_request

    Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
    topic.refresh_from_db()
    sub = subscription_request(actor=carol, subscriber=clinical, source=topic, service_account=sa,
                               mode=Subscription.Mode.DIRECT, reason="clinical billing checks", via="api")
    assert sub.decision == Subscription.Decision.REQUESTED
    apply(cluster)
    assert can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) == "TOPIC_AUTHORIZATION_FAILED"

    sub = subscription_approve(actor=alice, subscription=sub, comment="ok", via="api")
    assert apply(cluster, sub).status == ResourceStatus.READY, sub.last_error
    wait_for(lambda: can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) is True,
             timeout=20, message="read allowed")
    assert topic.attempts.filter(actions__0__startswith=f"subscription {sub.pk}:").exists()

    with pytest.raises(ValidationError):
        service_account_delete(actor=carol, sa=sa)

    _revoke(sub)
    assert apply(cluster, sub).status == ResourceStatus.DELETED, sub.last_error
    wait_for(lambda: can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group)
             == "TOPIC_AUTHORIZATION_FAILED", timeout=20, message="read denied again")


def test_rotation_replaces_the_password_and_deletion_removes_the_credential(
        cluster, payments, alice, kafka_sasl_bootstrap):
    sa, old = service_account_create(actor=alice, cluster=cluster, team=payments, name=_name("rot"))
    apply(cluster, sa)
    wait_for(lambda: authenticates(kafka_sasl_bootstrap, sa.username, old), timeout=20, message="old login")

    sa, new = service_account_rotate(actor=alice, sa=sa)
    assert new != old
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    assert sa.pending_secret is None
    wait_for(lambda: authenticates(kafka_sasl_bootstrap, sa.username, new), timeout=20, message="new login")
    assert not authenticates(kafka_sasl_bootstrap, sa.username, old)

    service_account_delete(actor=alice, sa=sa)
    assert apply(cluster, sa).status == ResourceStatus.DELETED, sa.last_error
    assert not authenticates(kafka_sasl_bootstrap, sa.username, new)
    assert not KafkaAcls().describe_acls(sa.principal)


def test_an_acl_removed_behind_the_portals_back_is_flagged_and_reverted(
        cluster, payments, alice, kafka_admin):
    sa, _ = service_account_create(actor=alice, cluster=cluster, team=payments, name=_name("drift"))
    apply(cluster, sa)
    assert check_access_drift(cluster.pk).drifted == []
    query = AclBindingFilter(ResourceType.TOPIC, "payments.", ResourcePatternType.PREFIXED, sa.principal, "*",
                             AclOperation.WRITE, AclPermissionType.ALLOW)
    assert len(kafka_admin.delete_acls([query])[query].result(10)) == 1

    report = check_access_drift(cluster.pk)
    assert report.drifted == [sa.username]
    sa.refresh_from_db()
    assert sa.status == ResourceStatus.DRIFTED
    assert [(a["resource_type"], a["operation"]) for a in sa.drift["missing"]] == [("TOPIC", "WRITE")]
    assert sa.drift["extra"] == []

    Cluster.objects.filter(pk=cluster.pk).update(drift_reaction=Cluster.DriftReaction.REVERT)
    assert check_access_drift(cluster.pk).reverting == [sa.username]
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    assert sa.drift is None
    assert any(a.operation == "WRITE" and a.resource_type == "TOPIC" for a in KafkaAcls().describe_acls(sa.principal))


def test_a_routed_subscription_writes_its_rule_and_dead_letter_topic_and_a_tombstone_on_revoke(
        cluster, payments, clinical, alice, carol, topic_name, broker_topics, rules_topic, kafka_admin):
    source = _payments_topic(cluster, payments, alice, topic_name)
    destination_name = broker_topics("clinical")
    destination = Topic.objects.create(cluster=cluster, team=clinical, name=destination_name, partitions=1,
                                       replication_factor=1, status=ResourceStatus.READY, observed_generation=1)
    sa, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=_name("routed"))
    sub = _subscribe(clinical, source, sa, carol, mode=Subscription.Mode.ROUTED, destination=destination)
    Subscription.objects.filter(pk=sub.pk).update(filter="value.amount > `10`")
    assert apply(cluster, sub).status == ResourceStatus.READY, sub.last_error
    assert f"{destination_name}.dlq" in kafka_admin.list_topics(timeout=10).topics

    config = {"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS}

    def rule():
        reader = RulesTableReader(rules_topic, config)
        try:
            return reader.catch_up(timeout=20).get(str(sub.pk))
        finally:
            reader.close()

    found = rule()
    assert found is not None
    assert (found.source_topic, found.destination_topic, found.dead_letter_topic, found.filter) == (
        source.name, destination_name, f"{destination_name}.dlq", "value.amount > `10`")

    _revoke(sub)
    assert apply(cluster, sub).status == ResourceStatus.DELETED, sub.last_error
    assert rule() is None


def test_a_worker_applies_a_new_service_account_on_its_own(celery_worker, cluster, payments, alice,
                                                           kafka_sasl_bootstrap):
    from tests.fixtures.waiting import wait_for_status

    sa, password = service_account_create(actor=alice, cluster=cluster, team=payments, name=_name("worker"))
    assert wait_for_status(sa, "ready", "failed", timeout=30).status == ResourceStatus.READY, sa.last_error
    wait_for(lambda: authenticates(kafka_sasl_bootstrap, sa.username, password), timeout=20, message="login")
