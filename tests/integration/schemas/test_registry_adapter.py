"""The registry adapter against the real registry: plain answers, registry quirks absorbed, PlatformError."""

import json
import time
import uuid

import pytest
from django.conf import settings

from onboarding.platform import PlatformError
from onboarding.platform.connection import RegistryConnection
from onboarding.platform.registry import SYNTAX_PROBE_PREFIX, Registry
from tests.fixtures.schemas import ORDER_V1, ORDER_V2, ORDER_V3_BREAKING, text

PROTO_OK = 'syntax = "proto3";\npackage payments;\n\nmessage Payment {\n  string id = 1;\n}\n'
PROTO_TYPO = 'syntax = "proto3";\npackage payments;\n\nmessage Payment {\n  strin id = 1;\n}\n'


@pytest.fixture
def adapter():
    with Registry() as client:
        yield client


@pytest.fixture
def subject(registry_subjects):
    name = f"payments.adapter-{uuid.uuid4().hex[:8]}-value"
    registry_subjects.append(name)
    return name


def test_a_missing_subject_reads_as_empty_not_as_an_error(adapter, subject):
    assert adapter.versions(subject) == []
    assert adapter.lookup(subject, text(ORDER_V1), "AVRO") is None
    assert adapter.get_compatibility(subject) is None
    assert adapter.referenced_by(subject, 1) == []
    # Apicurio answers true, Confluent 404 or true: the adapter says true.
    assert adapter.check_compatibility(subject, text(ORDER_V1), "AVRO") is True
    assert adapter.delete_subject(subject, permanent=False) == []
    assert adapter.delete_subject(subject, permanent=True) == []


def test_register_lookup_and_read_back(adapter, subject, registry):
    schema_id = adapter.register(subject, text(ORDER_V1), "AVRO")

    assert adapter.versions(subject) == [1]
    assert adapter.lookup(subject, text(ORDER_V1), "AVRO") == {"id": schema_id, "version": 1}
    assert adapter.register(subject, text(ORDER_V1), "AVRO") == schema_id  # same schema, no new version
    assert adapter.versions(subject) == [1]
    read = adapter.get_version(subject, 1)
    assert read["id"] == schema_id and read["version"] == 1 and read["schemaType"] == "AVRO"
    assert json.loads(read["schema"]) == ORDER_V1
    assert subject in adapter.subjects(prefix="payments.adapter-")
    assert registry.versions(subject) == [1]


def test_an_incompatible_schema_is_refused_with_the_registrys_reason(adapter, subject):
    adapter.register(subject, text(ORDER_V2), "AVRO")
    assert adapter.check_compatibility(subject, text(ORDER_V3_BREAKING), "AVRO") is False

    with pytest.raises(PlatformError) as refused:
        adapter.register(subject, text(ORDER_V3_BREAKING), "AVRO")

    assert refused.value.retryable is False and refused.value.code == "incompatible"
    assert "customer" in str(refused.value)  # the registry names the offending field
    assert "Exception" not in str(refused.value)  # no Java class names in front of a team


def test_the_subject_level_is_told_apart_from_the_global_default(adapter, subject, registry):
    adapter.register(subject, text(ORDER_V1), "AVRO")
    # Apicurio answers NONE for a subject without a level of its own; the adapter answers None.
    assert adapter.get_compatibility(subject) is None
    assert adapter.global_compatibility() == "BACKWARD"

    adapter.set_compatibility(subject, "FULL")
    assert adapter.get_compatibility(subject) == registry.level(subject) == "FULL"
    adapter.set_compatibility(subject, "NONE")
    assert adapter.get_compatibility(subject) == "NONE"


def test_a_level_can_be_set_before_the_first_version(adapter, subject):
    adapter.set_compatibility(subject, "FORWARD")
    assert adapter.get_compatibility(subject) == "FORWARD"


def test_syntax_is_checked_by_the_registry_without_registering_anything(adapter, registry):
    probes = []
    real_register = adapter.register
    adapter.register = lambda subject, *args: probes.append(subject) or real_register(subject, *args)

    assert adapter.check_syntax(PROTO_OK, "PROTOBUF") is None
    assert adapter.check_syntax(PROTO_TYPO, "PROTOBUF")
    assert adapter.check_syntax("this is not protobuf", "PROTOBUF")
    assert adapter.check_syntax(text(ORDER_V1), "AVRO") is None
    assert adapter.check_syntax('{"type": "recrd", "name": "x"}', "AVRO")
    assert adapter.check_syntax('{"type": "object", "properties": {"a": {"type": "string"}}}', "JSON") is None
    assert adapter.check_syntax("{not json", "JSON")

    with pytest.raises(PlatformError) as invalid:
        adapter.validate(PROTO_TYPO, "PROTOBUF")
    assert invalid.value.code == "invalid_schema" and not invalid.value.retryable
    adapter.validate(PROTO_OK, "PROTOBUF")

    # Each check registered only its own probe, and none of them stays, not even soft-deleted.
    assert len(probes) == 9 and all(p.startswith(SYNTAX_PROBE_PREFIX) for p in probes)
    assert set(probes).isdisjoint(registry.all_subjects(deleted=True))


@pytest.mark.django_db
def test_a_probe_left_behind_is_removed_by_the_sweep_and_one_in_use_is_kept(adapter, registry, cluster):
    from onboarding.platform.registry import probe_subject
    from onboarding.reconcile.sweep import remove_stale_probes

    now = time.time()
    stale, fresh = probe_subject("avro", now=now - 3600), probe_subject("avro", now=now)
    for subject in (stale, fresh):
        adapter.register(subject, '"string"', "AVRO")
    registry.delete(stale)  # soft-deleted only: its hard delete is what failed
    try:
        removed = remove_stale_probes([cluster])

        left = set(registry.all_subjects(deleted=True))
        assert stale in removed[cluster.registry_url or settings.SCHEMA_REGISTRY_URL.rstrip("/")]
        assert stale not in left
        assert fresh in left  # younger than the grace period: a check may still be using it
    finally:
        registry.delete(fresh)
        registry.delete(fresh, permanent=True)


def test_a_probe_is_dated_by_its_name_and_one_without_a_date_counts_as_old():
    from onboarding.platform.registry import _probe_born, probe_subject

    assert _probe_born(probe_subject("json", now=1_700_000_000)) == 1_700_000_000
    assert _probe_born(SYNTAX_PROBE_PREFIX + "avro") == 0.0

def test_deleting_needs_soft_then_permanent_and_tolerates_repeats(adapter, subject, registry):
    adapter.register(subject, text(ORDER_V1), "AVRO")
    with pytest.raises(PlatformError) as refused:
        adapter.delete_subject(subject, permanent=True)
    assert refused.value.code == "40405" and not refused.value.retryable

    assert adapter.delete_subject(subject, permanent=False) == [1]
    assert adapter.delete_subject(subject, permanent=False) == []
    assert registry.versions(subject, deleted=True) == [1]
    assert adapter.delete_subject(subject, permanent=True) == [1]
    assert adapter.delete_subject(subject, permanent=True) == []
    assert registry.versions(subject, deleted=True) is None


def test_a_referenced_subject_cannot_be_deleted(adapter, registry, registry_subjects):
    base, user = (f"payments.adapter-{uuid.uuid4().hex[:8]}-value" for _ in range(2))
    registry_subjects.extend([base, user])  # the user subject is cleaned up first
    adapter.register(base, text(ORDER_V1), "AVRO")
    user_id = registry.register(user, {"type": "record", "name": "Invoice", "namespace": "payments.test",
                                       "fields": [{"name": "order", "type": "payments.test.Order"}]},
                                references=[{"name": "payments.test.Order", "subject": base, "version": 1}])

    assert adapter.referenced_by(base, 1) == [user_id]
    with pytest.raises(PlatformError) as refused:
        adapter.delete_subject(base, permanent=False)
    assert refused.value.code == "referenced" and not refused.value.retryable


def test_an_unreachable_registry_is_a_retryable_error():
    with Registry(RegistryConnection(url="http://127.0.0.1:9/apis/ccompat/v7"), timeout=2) as down:
        with pytest.raises(PlatformError) as failed:
            down.versions("anything-value")
    assert failed.value.retryable and failed.value.code == "unreachable"
    assert "Schema Registry" in str(failed.value)
