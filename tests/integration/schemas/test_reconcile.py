"""Schemas reach the real registry through the schema reconciler: versions in order, the subject's level,
idempotent re-runs, refusals with the registry's reason, and deletion."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onboarding.models import ApplyAttempt, ResourceStatus, Schema, SchemaVersion
from onboarding.queue import schemas_reconcile_soon
from tests.fixtures.schemas import ORDER_V1, ORDER_V2, ORDER_V3_BREAKING, add_version, apply_now, request_deletion
from tests.fixtures.waiting import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def _registered(schema):
    return list(schema.versions.order_by("number").values_list("number", "registry_version"))


def _actions(schema):
    return [a.actions for a in schema.attempts.order_by("started_at", "id")]


def test_versions_are_registered_in_order_and_the_subject_gets_its_level(make_schema, registry):
    schema = make_schema(ORDER_V1, compatibility="FULL")

    schema = apply_now(schema)

    assert schema.status == ResourceStatus.READY and schema.observed_generation == schema.generation
    assert registry.versions(schema.subject) == [1]
    assert registry.level(schema.subject) == "FULL"
    v1 = schema.versions.get()
    assert v1.registry_version == 1 and v1.registered_at is not None
    assert v1.registry_id == registry.version(schema.subject, 1)["id"]

    add_version(schema, ORDER_V2)
    schema = apply_now(schema)

    assert schema.status == ResourceStatus.READY and schema.observed_generation == schema.generation == 2
    assert registry.versions(schema.subject) == [1, 2]
    assert _registered(schema) == [(1, 1), (2, 2)]
    assert _actions(schema) == [["set compatibility FULL", "register version 1"], ["register version 2"]]
    attempts = schema.attempts.all()
    assert {a.topic_id for a in attempts} == {schema.topic_id}
    assert {a.outcome for a in attempts} == {ApplyAttempt.Outcome.READY}


def test_a_rerun_finds_what_is_registered_instead_of_adding_versions(make_schema, registry):
    schema = apply_now(make_schema(ORDER_V1, ORDER_V2))
    ids = list(schema.versions.order_by("number").values_list("registry_id", flat=True))
    # As if a run died after registering but before saving what it got back.
    SchemaVersion.objects.filter(schema=schema).update(registry_id=None, registry_version=None, registered_at=None)
    Schema.objects.filter(pk=schema.pk).update(status=ResourceStatus.PENDING, generation=schema.generation + 1)

    schema = apply_now(schema)

    assert schema.status == ResourceStatus.READY
    assert registry.versions(schema.subject) == [1, 2]
    assert list(schema.versions.order_by("number").values_list("registry_id", flat=True)) == ids
    assert _actions(schema)[-1] == ["version 1 already registered as registry version 1",
                                    "version 2 already registered as registry version 2"]


def test_the_level_is_set_only_when_the_registry_differs(make_schema, registry):
    schema = apply_now(make_schema(ORDER_V1))
    assert registry.level(schema.subject) == "BACKWARD"

    Schema.objects.filter(pk=schema.pk).update(compatibility="FORWARD", generation=2, status=ResourceStatus.PENDING)
    schema = apply_now(schema)

    assert registry.level(schema.subject) == "FORWARD"
    assert _actions(schema) == [["set compatibility BACKWARD", "register version 1"], ["set compatibility FORWARD"]]


def test_an_incompatible_version_fails_with_the_registrys_reason_and_waits_for_a_change(make_schema, registry):
    schema = apply_now(make_schema(ORDER_V1, ORDER_V2))
    add_version(schema, ORDER_V3_BREAKING)
    before = timezone.now()

    schema = apply_now(schema)

    assert schema.status == ResourceStatus.FAILED and schema.failures == 1
    assert "incompatible" in schema.last_error and "customer" in schema.last_error
    # Retrying cannot help, so it waits the longest backoff (a new version resets it).
    waited = (schema.next_attempt_at - before).total_seconds()
    assert waited >= settings.RECONCILE_MAX_BACKOFF_SECONDS - 1
    assert registry.versions(schema.subject) == [1, 2]
    assert _registered(schema) == [(1, 1), (2, 2), (3, None)]
    attempt = schema.attempts.order_by("-started_at", "-id").first()
    assert attempt.outcome == ApplyAttempt.Outcome.REFUSED and "customer" in attempt.error


def test_deletion_removes_the_subject_soft_then_permanently(make_schema, registry):
    schema = apply_now(make_schema(ORDER_V1, ORDER_V2))
    request_deletion(schema)

    schema = apply_now(schema)

    assert schema.status == ResourceStatus.DELETED and schema.deleted_at is not None
    assert registry.versions(schema.subject) is None
    assert registry.versions(schema.subject, deleted=True) is None
    assert schema.subject not in registry.all_subjects(deleted=True)
    assert _actions(schema)[-1] == ["soft-delete subject", "permanently delete subject"]


def test_a_referenced_subject_is_not_deleted(make_schema, registry, registry_subjects):
    schema = apply_now(make_schema(ORDER_V1))
    user = f"{schema.topic.name}-invoice-value"
    registry_subjects.append(user)  # cleaned up before the referenced subject
    user_id = registry.register(user, {"type": "record", "name": "Invoice", "namespace": "payments.test",
                                       "fields": [{"name": "order", "type": "payments.test.Order"}]},
                                references=[{"name": "payments.test.Order", "subject": schema.subject, "version": 1}])
    request_deletion(schema)

    schema = apply_now(schema)

    assert schema.status == ResourceStatus.FAILED
    assert "referenced" in schema.last_error and str(user_id) in schema.last_error
    assert registry.versions(schema.subject) == [1]
    assert schema.attempts.order_by("-started_at", "-id").first().outcome == ApplyAttempt.Outcome.REFUSED
    assert schema.next_attempt_at > timezone.now() + timedelta(seconds=settings.RECONCILE_MAX_BACKOFF_SECONDS - 5)


def test_a_schema_committed_in_a_transaction_is_registered_by_the_worker(celery_worker, make_schema, registry):
    with transaction.atomic():
        schema = make_schema(ORDER_V1, ORDER_V2, compatibility="FULL_TRANSITIVE")
        schemas_reconcile_soon(schema.topic.cluster_id)

    schema = wait_for_status(schema, ResourceStatus.READY, ResourceStatus.FAILED, timeout=60)

    assert schema.status == ResourceStatus.READY, schema.last_error
    assert registry.versions(schema.subject) == [1, 2]
    assert registry.level(schema.subject) == "FULL_TRANSITIVE"
