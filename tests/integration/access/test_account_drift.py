"""ACL drift of a service account has both choices, on the page, in the API and in the admin: adopt makes
the cluster's ACLs the desired ones (extra kept, missing no longer granted), revert puts the portal's
standard set back. What the account may do is checked as the account itself, on the SCRAM listener."""

import uuid

import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)
from rest_framework.test import APIClient

from onboarding.models import ApiToken, AuditEvent, ResourceStatus, ServiceAccount
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.access_drift import check_access_drift
from onboarding.services.service_accounts import service_account_create
from onboarding.services.topics import topic_create
from tests.fixtures.actors import PASSWORD
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import apply, can_produce, can_read

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_cleanup")]


def _topic(cluster, team, actor, prefix):
    topic = topic_create(actor=actor, cluster=cluster, team=team, name=f"{prefix}.d-{uuid.uuid4().hex[:8]}",
                         partitions=1, replication_factor=1)
    topic_reconciler.reconcile_cluster(cluster.pk)
    topic.refresh_from_db()
    assert topic.status == ResourceStatus.READY, topic.last_error
    return topic


def _change_acls_outside(kafka_admin, sa, clinical_topic):
    """Someone with the admin connection removes WRITE on the team's prefix and adds READ on clinical's topic."""
    write = AclBindingFilter(ResourceType.TOPIC, "payments.", ResourcePatternType.PREFIXED, sa.principal, "*",
                             AclOperation.WRITE, AclPermissionType.ALLOW)
    assert len(kafka_admin.delete_acls([write])[write].result(10)) == 1
    extra = [AclBinding(ResourceType.TOPIC, clinical_topic, ResourcePatternType.LITERAL, sa.principal, "*",
                        operation, AclPermissionType.ALLOW) for operation in (AclOperation.READ, AclOperation.DESCRIBE)]
    for future in kafka_admin.create_acls(extra).values():
        future.result(10)


def _labels(specs):
    return sorted((s["operation"], s["resource_type"], s["name"]) for s in specs)


def test_adopt_keeps_the_clusters_acls_and_revert_puts_the_standard_set_back(
        client, cluster, payments, alice, clinical, carol, operator, kafka_admin, kafka_sasl_bootstrap):
    own = _topic(cluster, payments, alice, "payments")
    theirs = _topic(cluster, clinical, carol, "clinical")
    sa, password = service_account_create(actor=alice, cluster=cluster, team=payments, name="drifty")
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    group = f"payments.g-{uuid.uuid4().hex[:6]}"
    assert wait_for(lambda: can_produce(kafka_sasl_bootstrap, sa.username, password, own.name) is True,
                    timeout=20, message="produce allowed")

    _change_acls_outside(kafka_admin, sa, theirs.name)
    assert check_access_drift(cluster.pk).drifted == [sa.username]
    sa.refresh_from_db()
    assert _labels(sa.drift["missing"]) == [("WRITE", "TOPIC", "payments.")]
    assert _labels(sa.drift["extra"]) == [("DESCRIBE", "TOPIC", theirs.name), ("READ", "TOPIC", theirs.name)]

    # The page: the drift and both choices, for the team's owner.
    client.login(username="alice", password=PASSWORD)
    page = client.get("/teams/payments/service-accounts/").content.decode()
    assert f"added outside: ALLOW READ on LITERAL TOPIC {theirs.name}" in page
    assert 'data-testid="revert-drifty"' in page and 'data-testid="adopt-drifty"' in page

    # The team cannot keep a right on another team's topic: that team never agreed to it.
    refused = client.post(f"/service-accounts/{sa.pk}/adopt/", follow=True).content.decode()
    assert "only platform operators can adopt those" in refused
    sa.refresh_from_db()
    assert sa.status == ResourceStatus.DRIFTED and not sa.acl_exceptions

    # Adopt, from the page, by an operator: the cluster's set becomes desired; nothing is reported or changed.
    client.force_login(operator)
    response = client.post(f"/service-accounts/{sa.pk}/adopt/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Location"] == "/teams/payments/service-accounts/"
    client.login(username="alice", password=PASSWORD)
    sa.refresh_from_db()
    assert (sa.status, sa.drift) == (ResourceStatus.READY, None)
    assert _labels(sa.acl_exceptions["accepted"]) == _labels(
        [{"operation": o, "resource_type": "TOPIC", "name": theirs.name} for o in ("READ", "DESCRIBE")])
    assert _labels(sa.acl_exceptions["waived"]) == [("WRITE", "TOPIC", "payments.")]
    assert AuditEvent.objects.get(action="service_account.drift.adopt").via == AuditEvent.Via.BROWSER
    assert check_access_drift(cluster.pk).drifted == []
    ServiceAccount.objects.filter(pk=sa.pk).update(status=ResourceStatus.PENDING)  # a later run keeps them
    reconcile_access(cluster.pk)
    assert can_read(kafka_sasl_bootstrap, sa.username, password, theirs.name, group) is True
    assert can_produce(kafka_sasl_bootstrap, sa.username, password, own.name) == "TOPIC_AUTHORIZATION_FAILED"
    assert "kept: ALLOW READ on LITERAL TOPIC" in client.get("/teams/payments/service-accounts/").content.decode()

    # Revert, through the API: back to the standard ACLs, the adopted exceptions forgotten.
    _, token = ApiToken.new(user=alice, name="t", scope=ApiToken.Scope.WRITE)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    answer = api.post(f"/api/v1/service-accounts/{sa.pk}/revert/")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["acl_exceptions"]) == ("pending", {})
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    observed = {(s.operation, s.resource_type, s.name) for s in KafkaAcls().describe_acls(sa.principal)}
    assert ("WRITE", "TOPIC", "payments.") in observed and not any(name == theirs.name for *_, name in observed)
    assert wait_for(lambda: can_produce(kafka_sasl_bootstrap, sa.username, password, own.name) is True,
                    timeout=20, message="produce allowed again")
    assert can_read(kafka_sasl_bootstrap, sa.username, password, theirs.name, group) == "TOPIC_AUTHORIZATION_FAILED"
    assert api.post(f"/api/v1/service-accounts/{sa.pk}/adopt/").json()["errors"]["non_field_errors"] == [
        "The service account has no ACL drift to adopt."]


def test_operators_revert_acl_drift_from_the_admin_and_outsiders_cannot_decide(
        client, cluster, payments, alice, carol, kafka_admin, operator):
    from onboarding.errors import PermissionDenied
    from onboarding.services.service_accounts_drift import service_account_adopt

    sa, _ = service_account_create(actor=alice, cluster=cluster, team=payments, name="admin-drift")
    apply(cluster, sa)
    write = AclBindingFilter(ResourceType.TOPIC, "payments.", ResourcePatternType.PREFIXED, sa.principal, "*",
                             AclOperation.WRITE, AclPermissionType.ALLOW)
    kafka_admin.delete_acls([write])[write].result(10)
    check_access_drift(cluster.pk)
    sa.refresh_from_db()
    with pytest.raises(PermissionDenied):
        service_account_adopt(actor=carol, sa=sa)

    client.force_login(operator)
    page = client.post("/admin/onboarding/serviceaccount/", {"action": "revert_drift", "_selected_action": [sa.pk]},
                       follow=True)
    assert "Reverting the ACLs of 1 service account(s)." in page.content.decode()
    assert apply(cluster, sa).status == ResourceStatus.READY, sa.last_error
    assert any(s.operation == "WRITE" for s in KafkaAcls().describe_acls(sa.principal))
    event = AuditEvent.objects.get(action="service_account.drift.revert")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)


def test_a_direct_subscriptions_acl_drift_is_adopted_or_reverted(
        cluster, payments, alice, clinical, carol, kafka_admin, kafka_sasl_bootstrap):
    from onboarding.models import Subscription
    from onboarding.services.subscriptions import subscription_request

    topic = _topic(cluster, payments, alice, "payments")
    sa, password = service_account_create(actor=carol, cluster=cluster, team=clinical, name="reader")
    sub = subscription_request(actor=carol, subscriber=clinical, source=topic, service_account=sa,
                               mode=Subscription.Mode.DIRECT, reason="audit", via="api")
    assert apply(cluster, sub).status == ResourceStatus.READY, sub.last_error
    group = f"clinical.g-{uuid.uuid4().hex[:6]}"
    assert wait_for(lambda: can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) is True,
                    timeout=20, message="read allowed")
    read = AclBindingFilter(ResourceType.TOPIC, topic.name, ResourcePatternType.LITERAL, sa.principal, "*",
                            AclOperation.READ, AclPermissionType.ALLOW)
    assert len(kafka_admin.delete_acls([read])[read].result(10)) == 1
    check_access_drift(cluster.pk)
    sub.refresh_from_db()
    assert sub.status == ResourceStatus.DRIFTED and _labels(sub.drift["missing"]) == [("READ", "TOPIC", topic.name)]

    _, token = ApiToken.new(user=carol, name="t", scope=ApiToken.Scope.WRITE)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    adopted = api.post(f"/api/v1/subscriptions/{sub.pk}/adopt/")
    assert (adopted.status_code, adopted.json()["status"]) == (200, "ready"), adopted.content
    sa.refresh_from_db()
    assert _labels(sa.acl_exceptions["waived"]) == [("READ", "TOPIC", topic.name)]
    report = check_access_drift(cluster.pk)
    assert report.drifted == [] and report.reverting == []
    assert can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) == "TOPIC_AUTHORIZATION_FAILED"

    # Drift again (READ granted outside), then revert: the portal's rule (READ while approved) is back.
    granted = AclBinding(ResourceType.TOPIC, topic.name, ResourcePatternType.LITERAL, sa.principal, "*",
                         AclOperation.READ, AclPermissionType.ALLOW)
    kafka_admin.create_acls([granted])[granted].result(10)  # on the broker before the drift check looks
    check_access_drift(cluster.pk)
    sub.refresh_from_db()
    assert sub.status == ResourceStatus.DRIFTED, sub.drift
    reverted = api.post(f"/api/v1/subscriptions/{sub.pk}/revert/")
    assert reverted.status_code == 200, reverted.content
    assert apply(cluster, sub).status == ResourceStatus.READY, sub.last_error
    sa.refresh_from_db()
    assert not sa.acl_exceptions
    assert wait_for(lambda: can_read(kafka_sasl_bootstrap, sa.username, password, topic.name, group) is True,
                    timeout=20, message="read allowed again")
    assert AuditEvent.objects.filter(action__in=["subscription.drift.adopt", "subscription.drift.revert"]).count() == 2
