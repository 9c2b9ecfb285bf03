"""Each gated operation: its plan as the reviewer reads it, and the same service applying it once approved."""

import json

import pytest

from onboarding import tasks
from onboarding.changes.requests import change_request_approve
from onboarding.models import AuditEvent, ChangeRequest, ServiceAccount, Subscription
from onboarding.services.schemas import schema_set_compatibility, schema_version_submit
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from onboarding.services.topics import topic_create
from tests.fixtures.schemas import ORDER_V1, ORDER_V2, apply_now
from tests.fixtures.waiting import wait_for

VIA = AuditEvent.Via.API


@pytest.mark.django_db
def test_a_gated_schema_version_shows_its_structural_diff_and_applies_after_approval(
        cluster, payments, alice, otto, gated, make_schema):
    schema = apply_now(make_schema(ORDER_V1), "ready")
    gated(cluster, "schema.submit", "schema.compatibility")

    cr = schema_version_submit(actor=alice, topic=schema.topic, side="value", fmt="AVRO", text=json.dumps(ORDER_V2),
                               via=VIA)

    assert isinstance(cr, ChangeRequest) and schema.versions.count() == 1
    step = cr.plan["steps"][0]
    assert step["actions"] == [f"register version 2 of {schema.subject} (AVRO)", "compatibility mode BACKWARD"]
    assert any("currency" in change and "added" in change for change in step["details"]["changes"])
    assert cr.base_generation == schema.generation

    assert change_request_approve(actor=otto, change_request=cr, via=VIA).status == "applied"
    assert schema.versions.count() == 2

    schema.refresh_from_db()
    mode = schema_set_compatibility(actor=alice, schema=schema, compatibility="FULL", via=VIA)
    assert mode.plan["steps"][0]["actions"] == ["set compatibility BACKWARD -> FULL"]


@pytest.mark.django_db
def test_a_gated_service_account_plans_its_credential_and_acls(cluster, payments, alice, otto, gated):
    gated(cluster, "service_account.create")

    cr = service_account_create(actor=alice, cluster=cluster, team=payments, name="billing", via=VIA)

    assert isinstance(cr, ChangeRequest) and not ServiceAccount.objects.exists()
    actions = cr.plan["steps"][0]["actions"]
    assert actions[0] == "set a SCRAM credential for payments.billing"
    assert "create ACL ALLOW READ on PREFIXED GROUP payments. for User:payments.billing" in actions
    change_request_approve(actor=otto, change_request=cr, via=VIA)
    assert ServiceAccount.objects.get().username == "payments.billing"


@pytest.mark.django_db
def test_a_gated_direct_subscription_plans_the_read_acls(cluster, payments, clinical, alice, carol, gated):
    source = topic_create(actor=carol, cluster=cluster, team=clinical, name="clinical.vitals", partitions=1,
                          replication_factor=1, via=VIA)
    reader, _ = service_account_create(actor=alice, cluster=cluster, team=payments, name="reader", via=VIA)
    gated(cluster, "subscription.request")

    cr = subscription_request(actor=alice, subscriber=payments, source=source, service_account=reader,
                              mode="direct", reason="billing", via=VIA)

    assert isinstance(cr, ChangeRequest) and not Subscription.objects.exists()
    assert "create ACL ALLOW READ on LITERAL TOPIC clinical.vitals for User:payments.reader" in \
        cr.plan["steps"][0]["actions"]
    assert cr.team == payments


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_expires_waiting_requests_in_a_worker(celery_worker, cluster, payments, alice, gated,
                                                            topic_name):
    from datetime import timedelta

    from django.utils import timezone

    gated(cluster, "topic.create")
    cr = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("beat"), partitions=1,
                      replication_factor=1, via=VIA)
    ChangeRequest.objects.filter(pk=cr.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    tasks.expire_change_requests.delay()

    wait_for(lambda: ChangeRequest.objects.get(pk=cr.pk).status == "expired", timeout=30,
             message="the request to expire")
    assert AuditEvent.objects.filter(action="change_request.expire", resource_id=str(cr.pk)).exists()


@pytest.mark.django_db
def test_a_gated_bulk_registration_becomes_one_request_applied_as_a_whole(cluster, payments, alice, otto, gated):
    from onboarding.models import Topic
    from onboarding.services.topics_bulk import TopicRequest, topics_create_many

    gated(cluster, "topic.create")
    requests = [TopicRequest(f"payments.bulk-{i}", partitions=1, replication_factor=1) for i in range(3)]

    cr = topics_create_many(actor=alice, cluster=cluster, team=payments, requests=requests, via=VIA)

    assert isinstance(cr, ChangeRequest) and len(cr.plan["steps"]) == 3 and not Topic.objects.exists()
    assert change_request_approve(actor=otto, change_request=cr, via=VIA).status == "applied"
    assert Topic.objects.filter(name__startswith="payments.bulk-").count() == 3
