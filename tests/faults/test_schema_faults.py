"""Nothing saved is lost when the Schema Registry is down: schema work fails, is retried, then done."""

import json

import pytest

from onboarding.models import ApplyAttempt, ResourceStatus, Schema
from onboarding.queue import schemas_reconcile_soon
from tests.fixtures.schemas import ORDER_V1, ORDER_V2
from tests.fixtures.waiting import wait_for, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_schemas_wait_out_a_registry_outage_and_become_ready_with_no_one_acting(
        make_schema, registry, celery_worker, celery_beat, service_control):
    # service_control comes last, so it is torn down first: the registry is back before subjects are cleaned up.
    service_control.stop("registry")
    schemas = [make_schema(ORDER_V1, ORDER_V2) for _ in range(3)]
    schemas_reconcile_soon(schemas[0].topic.cluster_id)

    def retried_with_error():
        rows = Schema.objects.filter(pk__in=[s.pk for s in schemas])
        # Between retries a schema is failed; during one it is applying again, with the last error kept.
        return all(s.status in (ResourceStatus.FAILED, ResourceStatus.APPLYING) and s.failures >= 2
                   and "Schema Registry" in s.last_error for s in rows)

    wait_for(retried_with_error, timeout=60, message="all 3 failed with a registry error and retried twice")
    attempts = ApplyAttempt.objects.filter(schema__in=schemas)
    assert set(attempts.values_list("outcome", flat=True)) == {ApplyAttempt.Outcome.FAILED}

    service_control.start("registry")

    for schema in schemas:
        schema = wait_for_status(schema, ResourceStatus.READY, timeout=180)
        assert schema.observed_generation == schema.generation
        assert registry.versions(schema.subject) == [1, 2]


def test_a_version_submitted_while_the_registry_is_down_is_refused_and_nothing_is_stored(
        cluster, payments, alice, topic_name, service_control):
    from onboarding.errors import ValidationError
    from onboarding.models import SchemaVersion
    from onboarding.services.schemas import schema_version_submit
    from onboarding.services.topics import topic_create

    topic = topic_create(actor=alice, cluster=cluster, team=payments, name=topic_name("sr-down"), partitions=1,
                         replication_factor=1)
    service_control.stop("registry")

    with pytest.raises(ValidationError) as refused:
        schema_version_submit(actor=alice, topic=topic, side="value", fmt="AVRO", text=json.dumps(ORDER_V1))

    assert "could not check this version" in refused.value.message_dict["__all__"][0]
    assert not Schema.objects.filter(topic=topic).exists()
    assert not SchemaVersion.objects.exists()
