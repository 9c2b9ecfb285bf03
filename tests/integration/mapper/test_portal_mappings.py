"""The mappings run with the portal's own rows: a mapping declared through the services is published to the
mapper's table as ``mapping_table_row`` of its current version (the row the mapper compiles), the mapping turns
ready, and deleting it tombstones the row; a version whose canonical schema has no registry id yet waits."""

import json
import uuid

import pytest

from onboarding.mapper.table import MappingRow
from onboarding.models import SchemaVersion
from onboarding.platform.compacted import read_compacted
from onboarding.platform.connection import kafka_connection_for
from onboarding.reconcile.mappings import reconcile_mappings
from onboarding.services.mapping_table import mapping_table_row
from onboarding.services.mappings import mapping_create, mapping_delete
from onboarding.tasks import mapping_table_rows
from tests.integration.mappings.conftest import admissions, canonical, gender_table, gil, gina, governance  # noqa: F401
from tests.integration.mappings.helpers import RULES

# Not transactional: on-commit hooks never fire, so no worker elsewhere runs these mappings.
pytestmark = pytest.mark.django_db


@pytest.fixture
def mapper_table(settings, make_topic, kafka_admin):
    """A mappings table of this test alone; the dead-letter topic the run creates is removed afterwards."""
    settings.MAPPER_TABLE_TOPIC = make_topic(f"mapper.table-{uuid.uuid4().hex[:8]}", 1, {"cleanup.policy": "compact"})
    settings.MAPPER_KAFKA_USERNAME = ""  # the principal has its own test (test_reconcile)
    yield settings.MAPPER_TABLE_TOPIC
    if "std.patient.dlq" in kafka_admin.list_topics(timeout=10).topics:
        kafka_admin.delete_topics(["std.patient.dlq"])["std.patient.dlq"].result(30)


def _table(cluster, topic) -> dict:
    return {key: json.loads(value) for key, value in read_compacted(kafka_connection_for(cluster), topic).items()}


def test_a_declared_mapping_is_published_as_its_current_versions_row_and_a_deleted_one_tombstoned(
        cluster, carol, clinical, canonical, admissions, gender_table, mapper_table):  # noqa: F811
    mapping = mapping_create(actor=carol, team=clinical, name="admissions-to-patient", source_topic=admissions,
                             canonical_topic=canonical, rules=RULES)
    report = reconcile_mappings(cluster.pk, rows_of=mapping_table_rows)
    assert not report.errors, report.errors
    mapping.refresh_from_db()
    assert mapping.status == "ready"
    row = _table(cluster, mapper_table)[mapping.mapping_id]
    assert row == mapping_table_row(mapping.current_version)
    assert (row["target_schema_id"], row["dlq_topic"]) == (4242, "std.patient.dlq")
    compiled = MappingRow.from_json(row)
    assert compiled.broken is None
    assert compiled.compiled({"pid": "p-1", "sex": "X", "dob": "19800102"})["gender"] == "unknown"  # table default

    mapping_delete(actor=carol, mapping=mapping)
    assert not reconcile_mappings(cluster.pk, rows_of=mapping_table_rows).errors
    mapping.refresh_from_db()
    assert mapping.status == "deleted"
    assert mapping.mapping_id not in _table(cluster, mapper_table)


def test_a_version_whose_canonical_schema_has_no_registry_id_yet_waits_and_says_why(
        cluster, carol, clinical, canonical, admissions, gender_table, mapper_table):  # noqa: F811
    mapping = mapping_create(actor=carol, team=clinical, name="admissions-to-patient", source_topic=admissions,
                             canonical_topic=canonical, rules=RULES)
    SchemaVersion.objects.filter(schema__topic=canonical).update(registry_id=None)
    reconcile_mappings(cluster.pk, rows_of=mapping_table_rows)
    mapping.refresh_from_db()
    assert mapping.status == "failed" and "not registered yet" in mapping.last_error
    assert mapping.next_attempt_at is not None  # retried with backoff
    assert mapping.mapping_id not in _table(cluster, mapper_table)
