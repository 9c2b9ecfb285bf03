"""The aggregations run on the real broker, registry and Postgres: the output and dead-letter topics, the output
schema with its inherited tags, the definitions-table row and its tombstone; the status task from status rows
written here; the engine principal's exact ACLs."""

import json
import socket
import uuid

import pytest
from django.conf import settings as django_settings

from onboarding.errors import ValidationError
from onboarding.models import Aggregation, AggregationRuntime, ResourceStatus, SensitiveField
from onboarding.platform.compacted import read_compacted, write_compacted
from onboarding.platform.connection import kafka_connection_for
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.platform.types import AclSpec
from onboarding.reconcile import aggregations_plan as plan
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.access_drift import check_access_drift
from onboarding.reconcile.aggregations import reconcile_aggregations
from onboarding.reconcile.aggregations_status import refresh
from onboarding.reconcile.aggregator_access import planned_acls
from onboarding.services.aggregations import aggregation_create, aggregation_delete, aggregation_update
from tests.fixtures.waiting import wait_for
from tests.integration.aggregations.helpers import definition, with_value_schema

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tables(settings, kafka_admin):
    """A definitions and a status table of this test's own, removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    settings.AGGREGATIONS_TOPIC = f"_portal.aggregations-test-{suffix}"
    settings.AGGREGATIONS_STATUS_TOPIC = f"_portal.aggregations-status-test-{suffix}"
    yield settings.AGGREGATIONS_TOPIC, settings.AGGREGATIONS_STATUS_TOPIC
    _delete_topics(kafka_admin, [settings.AGGREGATIONS_TOPIC, settings.AGGREGATIONS_STATUS_TOPIC])


def _delete_topics(kafka_admin, names):
    existing = [name for name in names if name in kafka_admin.list_topics(timeout=10).topics]
    for future in (kafka_admin.delete_topics(existing, operation_timeout=30).values() if existing else []):
        future.result(30)


@pytest.fixture
def source(cluster, alice, payments, payments_topic, kafka_admin):
    """A 3-partition payments topic on the broker, its value schema's provider_id tagged PII."""
    topic = with_value_schema(payments_topic(partitions=3))
    topic_reconciler.reconcile_cluster(cluster.pk)
    wait_for(lambda: topic.name in kafka_admin.list_topics(timeout=10).topics, timeout=30, message="the source")
    SensitiveField.objects.create(schema=topic.schemas.get(side="value"), path="provider_id", classification="pii")
    yield topic
    _delete_topics(kafka_admin, [topic.name])


@pytest.fixture
def aggregation(alice, payments, source, registry_subjects, kafka_admin):
    output = f"payments.agg-{uuid.uuid4().hex[:8]}"
    registry_subjects.append(f"{output}-value")
    agg = aggregation_create(actor=alice, **definition(payments, source, output_topic=output, measures=[
        {"name": "claims", "op": "count"}, {"name": "amount_total", "op": "sum", "field": "value.amount"},
        {"name": "top_provider", "op": "last", "field": "value.provider_id"}]))
    yield agg
    _delete_topics(kafka_admin, [output, f"{output}.late"])


def table(cluster, topic) -> dict:
    return {key: json.loads(value) for key, value in read_compacted(kafka_connection_for(cluster), topic).items()}


def test_a_run_creates_the_topics_registers_the_schema_and_writes_the_row(cluster, tables, aggregation, source,
                                                                         kafka_admin, registry):
    report = reconcile_aggregations(cluster.pk)

    assert report.errors == {} and report.claimed == 1 and report.ready == 1
    agg = Aggregation.objects.get(pk=aggregation.pk)
    assert agg.status == ResourceStatus.APPLYING and agg.observed_generation == agg.generation  # the engine's turn
    metadata = kafka_admin.list_topics(timeout=10).topics
    assert len(metadata[agg.output_topic].partitions) == 3 and len(metadata[agg.dead_letter_topic].partitions) == 3
    registered = registry.http.get(f"{registry.url}/schemas/ids/{agg.output_schema_id}", timeout=10).json()
    schema = json.loads(registered["schema"])
    assert registered.get("schemaType") == "JSON"
    assert schema["properties"]["group"]["confluent:tags"] == ["PII"]  # group_by reads the tagged provider_id
    assert schema["properties"]["top_provider"]["confluent:tags"] == ["PII"]
    assert "confluent:tags" not in schema["properties"]["amount_total"]
    row = table(cluster, tables[0])[agg.definition_id]
    assert row == plan.table_row(plan.Spec.of(agg), version=1, output_schema_id=agg.output_schema_id,
                                 prefix=django_settings.AGGREGATOR_APPLICATION_PREFIX)
    assert row["application_id"] == f"portal-agg.{agg.definition_id}.v1"

    again = reconcile_aggregations(cluster.pk)
    assert again.claimed == 0 and again.errors == {}
    assert len(read_compacted(kafka_connection_for(cluster), tables[0])) == 1


def test_deleting_writes_the_tombstone(cluster, tables, aggregation, alice):
    reconcile_aggregations(cluster.pk)
    assert aggregation.definition_id in table(cluster, tables[0])

    aggregation_delete(actor=alice, aggregation=Aggregation.objects.get(pk=aggregation.pk))
    report = reconcile_aggregations(cluster.pk)

    assert report.deleted == 1, report.errors
    assert Aggregation.objects.get(pk=aggregation.pk).status == ResourceStatus.DELETED
    assert table(cluster, tables[0]) == {}


def test_a_source_not_on_the_broker_fails_with_backoff_and_loses_nothing(cluster, tables, alice, payments,
                                                                         payments_topic):
    pending = with_value_schema(payments_topic())  # registered in the portal, never applied to the broker
    agg = aggregation_create(actor=alice, **definition(payments, pending, output_topic="payments.agg-waiting"))

    report = reconcile_aggregations(cluster.pk)

    agg.refresh_from_db()
    assert agg.status == ResourceStatus.FAILED and "not on the cluster" in agg.last_error
    assert agg.next_attempt_at is not None and report.retry_in is not None
    assert agg.definition_id not in table(cluster, tables[0])


def status_row(agg, *, version=None, state="RUNNING", error=None, instance="i1", age_ms=0, now_ms=None,
               records_in=10):
    return plan.encode({"id": agg.definition_id, "version": version or agg.version, "instance": instance,
                        "state": state, "error": error, "updated_ms": now_ms - age_ms,
                        "metrics": {"records_in": records_in, "windows_emitted": 3, "late_dropped": 1,
                                    "late_dead_lettered": 0, "lag": 2}})


def write_status(cluster, topic, rows: dict):
    outcomes = write_compacted(kafka_connection_for(cluster), topic, rows)
    assert all(error is None for error in outcomes.values()), outcomes


def test_the_status_task_turns_engine_rows_into_ready_failed_and_drifted(cluster, tables, aggregation, settings):
    reconcile_aggregations(cluster.pk)
    agg = Aggregation.objects.get(pk=aggregation.pk)
    now = 1_800_000_000_000
    key = f"{agg.definition_id}@i1"
    write_status(cluster, tables[1], {key: status_row(agg, now_ms=now),
                                      f"{agg.definition_id}@i2": status_row(agg, instance="i2", now_ms=now,
                                                                            records_in=5),
                                      f"{agg.definition_id}@gone": status_row(agg, instance="gone", now_ms=now,
                                                                              age_ms=61_000, state="ERROR")})

    assert refresh(cluster_id=cluster.pk, now_ms=now).changed == {agg.definition_id: "ready"}
    agg.refresh_from_db()
    runtime = AggregationRuntime.objects.get(aggregation=agg)
    assert agg.status == ResourceStatus.READY
    assert (runtime.records_in, runtime.windows_emitted, runtime.late, runtime.lag) == (15, 6, 2, 4)
    assert [row["instance"] for row in runtime.instances] == ["i1", "i2"]  # the dead instance is left out

    write_status(cluster, tables[1], {key: status_row(agg, state="ERROR", error="deserialization failed",
                                                      now_ms=now)})
    refresh(cluster_id=cluster.pk, now_ms=now)
    agg.refresh_from_db()
    assert agg.status == ResourceStatus.FAILED and agg.last_error == "i1: deserialization failed"

    settings.AGGREGATIONS_DRIFT_GRACE_SECONDS = 30
    write_status(cluster, tables[1], {key: status_row(agg, version=agg.version + 1, now_ms=now),
                                      f"{agg.definition_id}@i2": None})
    refresh(cluster_id=cluster.pk, now_ms=now)  # behind from now on, within the grace
    assert Aggregation.objects.get(pk=agg.pk).status == ResourceStatus.FAILED
    assert refresh(cluster_id=cluster.pk, now_ms=now + 31_000).changed == {agg.definition_id: "drifted"}
    agg.refresh_from_db()
    assert agg.status == ResourceStatus.DRIFTED and "No live engine instance runs version 1" in agg.last_error


@pytest.fixture
def engine_principal(settings, kafka_admin):
    from confluent_kafka.admin import (
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
        ScramMechanism,
        UserScramCredentialDeletion,
    )

    settings.AGGREGATOR_KAFKA_USERNAME = f"portal-aggregator.{uuid.uuid4().hex[:8]}"
    settings.AGGREGATOR_KAFKA_PASSWORD = uuid.uuid4().hex
    yield f"User:{settings.AGGREGATOR_KAFKA_USERNAME}"
    query = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY,
                             f"User:{settings.AGGREGATOR_KAFKA_USERNAME}", None, AclOperation.ANY,
                             AclPermissionType.ANY)
    kafka_admin.delete_acls([query])[query].result(30)
    deletion = UserScramCredentialDeletion(settings.AGGREGATOR_KAFKA_USERNAME, ScramMechanism.SCRAM_SHA_512)
    for future in kafka_admin.alter_user_scram_credentials([deletion]).values():
        future.result(30)


def test_the_engine_principal_gets_exactly_the_acls_its_definitions_need(cluster, tables, aggregation, alice,
                                                                        engine_principal):
    definitions_topic, status_topic = tables
    own = {AclSpec("TOPIC", definitions_topic, "LITERAL", engine_principal, op) for op in ("READ", "DESCRIBE")}
    own |= {AclSpec("TOPIC", status_topic, "LITERAL", engine_principal, op) for op in ("READ", "WRITE", "DESCRIBE")}
    own |= {AclSpec(kind, "portal-agg.", "PREFIXED", engine_principal, "ALL")
            for kind in ("TOPIC", "GROUP", "TRANSACTIONAL_ID")}
    topics = {AclSpec("TOPIC", aggregation.source.name, "LITERAL", engine_principal, op) for op in ("READ", "DESCRIBE")}
    topics |= {AclSpec("TOPIC", name, "LITERAL", engine_principal, op)
               for name in (aggregation.output_topic, aggregation.dead_letter_topic) for op in ("WRITE", "DESCRIBE")}
    acls = KafkaAcls(kafka_connection_for(cluster))

    assert reconcile_aggregations(cluster.pk).errors == {}
    wait_for(lambda: acls.describe_acls(engine_principal) == own | topics, timeout=30, message="the engine's ACLs")
    assert acls.scram_users([django_settings.AGGREGATOR_KAFKA_USERNAME])

    aggregation_delete(actor=alice, aggregation=Aggregation.objects.get(pk=aggregation.pk))
    assert reconcile_aggregations(cluster.pk).errors == {}
    wait_for(lambda: acls.describe_acls(engine_principal) == own, timeout=30,
             message="a deleted definition's rights removed")


def test_a_registry_that_does_not_answer_fails_the_run_with_backoff_then_the_retry_applies(cluster, tables,
                                                                                           aggregation):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    registry_url = cluster.registry_url
    type(cluster).objects.filter(pk=cluster.pk).update(registry_url=closed)

    report = reconcile_aggregations(cluster.pk)

    agg = Aggregation.objects.get(pk=aggregation.pk)
    assert agg.status == ResourceStatus.FAILED and agg.failures == 1 and agg.next_attempt_at is not None
    assert report.retry_in is not None and agg.output_schema_id is None
    assert agg.definition_id not in table(cluster, tables[0])  # no row before its schema is registered

    type(cluster).objects.filter(pk=cluster.pk).update(registry_url=registry_url)
    Aggregation.objects.filter(pk=agg.pk).update(next_attempt_at=None)  # the backoff has passed
    assert reconcile_aggregations(cluster.pk).errors == {}
    agg.refresh_from_db()
    assert agg.status == ResourceStatus.APPLYING and agg.output_schema_id
    assert table(cluster, tables[0])[agg.definition_id]["output_schema_id"] == agg.output_schema_id


def test_the_access_run_provisions_the_engine_principal_and_reverts_its_drift(cluster, tables, aggregation,
                                                                             engine_principal, settings):
    # The run leaves the suite's gateway principal alone: its ACLs are planned from other tests' tokens.
    settings.GATEWAY_KAFKA_USERNAME = settings.GATEWAY_KAFKA_PASSWORD = ""
    acls = KafkaAcls(kafka_connection_for(cluster))
    source_read = AclSpec("TOPIC", aggregation.source.name, "LITERAL", engine_principal, "READ")

    assert reconcile_access(cluster.pk).errors == {}
    planned = planned_acls(cluster.pk)
    assert source_read in planned and len(planned) == 14  # 8 of its own, 2 per topic of the definition
    wait_for(lambda: acls.describe_acls(engine_principal) == planned, timeout=30, message="the engine's ACLs")
    assert acls.scram_users([django_settings.AGGREGATOR_KAFKA_USERNAME])

    acls.delete_acls([source_read])
    wait_for(lambda: source_read not in acls.describe_acls(engine_principal), timeout=30, message="the deletion")
    report = check_access_drift(cluster.pk)
    assert f"aggregation engine principal {engine_principal}" in report.reverting
    assert reconcile_access(cluster.pk).errors == {}
    wait_for(lambda: acls.describe_acls(engine_principal) == planned, timeout=30, message="the drift reverted")


def test_a_new_version_may_add_a_measure_but_not_change_one_under_the_subjects_compatibility(
        cluster, tables, aggregation, alice):
    reconcile_aggregations(cluster.pk)
    first = Aggregation.objects.get(pk=aggregation.pk).output_schema_id
    measures = [*aggregation.measures, {"name": "biggest", "op": "max", "field": "value.amount"}]

    added = aggregation_update(actor=alice, aggregation=Aggregation.objects.get(pk=aggregation.pk), measures=measures)
    assert reconcile_aggregations(cluster.pk).errors == {}
    added.refresh_from_db()
    assert added.version == 2 and added.output_schema_id not in (None, first)
    assert table(cluster, tables[0])[added.definition_id]["version"] == 2

    retyped = [m if m["name"] != "claims" else {"name": "claims", "op": "avg", "field": "value.amount"}
               for m in measures]
    # The registry's verdict on the output subject refuses the change at save, so nothing reaches the run.
    with pytest.raises(ValidationError) as refused:
        aggregation_update(actor=alice, aggregation=added, measures=retyped)
    assert "choose a new output topic" in refused.value.message_dict["measures"][0]
    reconcile_aggregations(cluster.pk)
    assert Aggregation.objects.get(pk=added.pk).version == 2
    assert table(cluster, tables[0])[added.definition_id]["version"] == 2  # the engine keeps running version 2
