"""Schema drift: versions registered and levels changed with raw registry calls are found, then reverted
or adopted; the sweep queues schema work and checks schemas next to topics."""

import json

import pytest

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, Cluster, ResourceStatus, Schema
from onboarding.reconcile.schemas_drift import check_schema_drift
from onboarding.reconcile.sweep import sweep
from onboarding.services.schemas_drift import schema_adopt, schema_revert
from tests.fixtures.schemas import ORDER_V1, ORDER_V2, apply_now
from tests.fixtures.waiting import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def drifted(make_schema, registry):
    """A ready schema (v1, BACKWARD) whose subject got a v2 and the level NONE behind the portal's back."""
    schema = apply_now(make_schema(ORDER_V1))
    assert schema.status == ResourceStatus.READY, schema.last_error
    registry.set_level(schema.subject, "NONE")
    registry.register(schema.subject, ORDER_V2)
    return schema


def test_versions_and_level_changed_behind_the_portals_back_are_reported(drifted):
    report = check_schema_drift(drifted.topic.cluster_id)

    assert report.drifted == [drifted.subject]
    drifted.refresh_from_db()
    assert drifted.status == ResourceStatus.DRIFTED
    assert drifted.drift == {"versions": {"desired": [1], "observed": [1, 2]},
                             "compatibility": {"desired": "BACKWARD", "observed": "NONE"}}
    assert "version(s) 2 registered outside the portal" in drifted.last_error
    assert [e["version"] for e in drifted.observed["extra"]] == [2]
    assert json.loads(drifted.observed["extra"][0]["schema"]) == ORDER_V2
    # Reported once, not again at every check while waiting for a decision.
    assert check_schema_drift(drifted.topic.cluster_id).drifted == []
    assert drifted.attempts.filter(outcome="drifted").count() == 1


def test_revert_soft_deletes_the_extra_version_and_sets_the_level_back(celery_worker, drifted, alice, registry):
    check_schema_drift(drifted.topic.cluster_id)
    drifted.refresh_from_db()

    schema_revert(actor=alice, schema=drifted)
    schema = wait_for_status(drifted, ResourceStatus.READY, ResourceStatus.FAILED, timeout=60)

    assert schema.status == ResourceStatus.READY, schema.last_error
    assert registry.versions(schema.subject) == [1]
    assert registry.versions(schema.subject, deleted=True) == [1, 2]  # soft: still readable by id
    assert registry.level(schema.subject) == "BACKWARD"
    assert schema.drift is None
    last = schema.attempts.order_by("-started_at", "-id").first()
    assert last.actions == ["soft-delete version 2 registered outside the portal", "set compatibility BACKWARD"]
    assert AuditEvent.objects.filter(action="schema.drift.revert", resource_id=str(schema.pk), actor=alice).exists()
    assert check_schema_drift(schema.topic.cluster_id).drifted == []


def test_adopt_takes_the_registrys_versions_and_level(drifted, alice, registry):
    check_schema_drift(drifted.topic.cluster_id)
    drifted.refresh_from_db()

    schema = schema_adopt(actor=alice, schema=drifted)

    assert schema.status == ResourceStatus.READY and schema.compatibility == "NONE"
    assert schema.observed_generation == schema.generation == 2
    v2 = schema.versions.get(number=2)
    assert json.loads(v2.text) == ORDER_V2 and v2.registry_version == 2
    assert v2.registry_id == registry.version(schema.subject, 2)["id"] and len(v2.fingerprint) == 64
    event = AuditEvent.objects.get(action="schema.drift.adopt", resource_id=str(schema.pk))
    assert event.before["compatibility"] == "BACKWARD" and event.after["compatibility"] == "NONE"
    assert [v["number"] for v in event.after["versions"]] == [1, 2]
    assert check_schema_drift(schema.topic.cluster_id).drifted == []


def test_a_deleted_subject_is_reported_and_revert_registers_it_again(celery_worker, make_schema, alice, registry):
    schema = apply_now(make_schema(ORDER_V1, ORDER_V2))
    registry.delete(schema.subject)
    registry.delete(schema.subject, permanent=True)

    check_schema_drift(schema.topic.cluster_id)
    schema.refresh_from_db()
    assert schema.status == ResourceStatus.DRIFTED
    assert schema.drift == {"exists": {"desired": True, "observed": False}}

    schema_revert(actor=alice, schema=schema)
    schema = wait_for_status(schema, ResourceStatus.READY, ResourceStatus.FAILED, timeout=60)

    assert schema.status == ResourceStatus.READY, schema.last_error
    assert registry.versions(schema.subject) == [v.registry_version for v in schema.versions.order_by("number")]
    assert len(registry.versions(schema.subject)) == 2
    assert registry.level(schema.subject) == "BACKWARD"


def test_only_owners_and_operators_decide_about_drift(drifted, bob, carol, operator):
    check_schema_drift(drifted.topic.cluster_id)
    drifted.refresh_from_db()

    for outsider in (bob, carol):
        with pytest.raises(PermissionDenied):
            schema_adopt(actor=outsider, schema=drifted)
    schema_adopt(actor=operator, schema=drifted)
    with pytest.raises(ValidationError):
        schema_revert(actor=operator, schema=drifted)  # nothing left to decide


def test_the_revert_reaction_undoes_drift_without_anyone_acting(make_schema, registry):
    schema = apply_now(make_schema(ORDER_V1))
    Cluster.objects.filter(pk=schema.topic.cluster_id).update(drift_reaction=Cluster.DriftReaction.REVERT)
    registry.set_level(schema.subject, "FORWARD")

    report = check_schema_drift(schema.topic.cluster_id)

    assert report.reverting == [schema.subject]
    schema.refresh_from_db()
    assert schema.status in (ResourceStatus.PENDING, ResourceStatus.APPLYING, ResourceStatus.READY)
    schema = apply_now(schema, ResourceStatus.READY)
    assert registry.level(schema.subject) == "BACKWARD"


def test_the_sweep_queues_schema_work_and_checks_schemas(celery_worker, make_schema, registry):
    ready = apply_now(make_schema(ORDER_V1))
    registry.set_level(ready.subject, "NONE")
    waiting = make_schema(ORDER_V1)
    Cluster.objects.filter(pk=ready.topic.cluster_id).update(last_checked_at=None)

    summary = sweep()["local"]

    assert summary["schemas"] == "queued"
    assert summary["schema_drift_check"]["drifted"] == [ready.subject]
    assert Schema.objects.get(pk=ready.pk).status == ResourceStatus.DRIFTED
    waiting = wait_for_status(waiting, ResourceStatus.READY, ResourceStatus.FAILED, timeout=60)
    assert waiting.status == ResourceStatus.READY, waiting.last_error
    assert registry.versions(waiting.subject) == [1]
