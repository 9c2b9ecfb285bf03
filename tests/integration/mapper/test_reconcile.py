"""The mappings run on the real broker: it publishes the rows it is given (the portal's ``mapping_table_row`` of
the live versions) to the mapper's table, tombstones the mappings that are gone, and keeps the mapper principal's
ACLs exactly those of the table; the mapper maps as that principal, and Kafka refuses it a source no row names."""

import json
import os
import secrets
import threading
import uuid

import pytest

from onboarding.mapper.mapper import Mapper
from onboarding.mapper.table import encode_row
from onboarding.platform.compacted import read_compacted
from onboarding.platform.connection import kafka_connection_for, mapper_kafka_connection
from onboarding.platform.kafka_acls import KafkaAcls
from onboarding.reconcile import mapper_acls
from onboarding.reconcile.access_drift import check_access_drift
from onboarding.reconcile.mappings import reconcile_mappings
from onboarding.routing.principal import start_when_provisioned
from tests.fixtures.waiting import wait_for
from tests.integration.access.conftest import can_read
from tests.integration.mapper.conftest import read_committed

pytestmark = [pytest.mark.django_db, pytest.mark.kafka, pytest.mark.registry]


@pytest.fixture
def mapper_principal(settings, cluster, make_topic):
    """The mapper principal, table and group of this test alone, removed afterwards."""
    run = uuid.uuid4().hex[:8]
    settings.MAPPER_KAFKA_USERNAME = f"portal-mapper.t{run}"
    settings.MAPPER_KAFKA_PASSWORD = secrets.token_urlsafe(24)
    settings.MAPPER_KAFKA_BOOTSTRAP_SERVERS = os.environ["KAFKA_SASL_BOOTSTRAP_SERVERS"]
    settings.MAPPER_TABLE_TOPIC = make_topic(f"mapper.table-{run}", 1, {"cleanup.policy": "compact"})
    settings.MAPPER_GROUP_ID = f"portal-mapper-{run}"
    principal = f"User:{settings.MAPPER_KAFKA_USERNAME}"
    yield principal
    admin = KafkaAcls(kafka_connection_for(cluster))
    admin.delete_acls(admin.describe_acls(principal))
    admin.alter_scram(deletes=[settings.MAPPER_KAFKA_USERNAME])


def _planned(settings, feeds, sources):
    return mapper_acls.planned(
        f"User:{settings.MAPPER_KAFKA_USERNAME}",
        [mapper_acls.MappingTopics(source, feeds.canonical, feeds.dlq) for source in sources],
        table_topic=settings.MAPPER_TABLE_TOPIC, group_id=settings.MAPPER_GROUP_ID,
        transactional_id_prefix=settings.MAPPER_TRANSACTIONAL_ID_PREFIX)


def test_the_run_publishes_the_rows_tombstones_the_gone_and_keeps_the_principal_to_the_table(
        settings, cluster, feeds, mapper_principal):
    a, b = feeds.row("a"), feeds.row("b")
    rows = [a, b]
    report = reconcile_mappings(cluster.pk, rows_of=lambda c: list(rows))
    assert not report.errors, report.errors
    connection = kafka_connection_for(cluster)
    table = read_compacted(connection, settings.MAPPER_TABLE_TOPIC)
    assert {key: json.loads(value) for key, value in table.items()} == {a["id"]: a, b["id"]: b}
    admin = KafkaAcls(connection)
    wait_for(lambda: admin.describe_acls(mapper_principal) == _planned(settings, feeds, [feeds.src_a, feeds.src_b]),
             timeout=30, message="the principal's ACLs to be the two rows'")

    # The mapper maps as that principal; the canonical events reach the canonical topic.
    mapper_connection = mapper_kafka_connection()
    mapper = start_when_provisioned(
        lambda: Mapper(kafka_config=mapper_connection.client_config(),
                       own_group_prefix=f"{mapper_connection.sasl_username}."),
        timeout=60, username=mapper_connection.sasl_username, what="mapper", table="mappings table")
    stop = threading.Event()
    thread = threading.Thread(target=mapper.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        feeds.produce_a(range(3))
        feeds.produce_b(range(2))
        assert len(read_committed(feeds.canonical, expect=5)) == 5

        # b is gone: its row is tombstoned, its source's rights go, and the mapper stops reading it.
        rows.remove(b)
        report = reconcile_mappings(cluster.pk, rows_of=lambda c: list(rows))
        assert not report.errors, report.errors
        assert set(read_compacted(connection, settings.MAPPER_TABLE_TOPIC)) == {a["id"]}
        assert admin.describe_acls(mapper_principal) == _planned(settings, feeds, [feeds.src_a])
        wait_for(lambda: mapper.table.table.get(b["id"]) is None, timeout=30, message="the tombstone to apply")
        feeds.produce_a(range(3, 5))
        assert len(read_committed(feeds.canonical, expect=7)) == 7
    finally:
        stop.set()
        thread.join(30)
    assert can_read(mapper_connection.bootstrap_servers, mapper_connection.sasl_username,
                    mapper_connection.sasl_password, feeds.src_b, settings.MAPPER_GROUP_ID) == \
        "TOPIC_AUTHORIZATION_FAILED"

    # An unchanged table is not rewritten, and the drift check finds the principal as planned.
    before = read_compacted(connection, settings.MAPPER_TABLE_TOPIC)
    reconcile_mappings(cluster.pk, rows_of=lambda c: list(rows))
    assert read_compacted(connection, settings.MAPPER_TABLE_TOPIC) == before == {a["id"]: encode_row(a)}
    assert not any("mapper principal" in entry for entry in check_access_drift(cluster.pk).reverting)
    admin.delete_acls({next(iter(_planned(settings, feeds, [feeds.src_a])))})
    assert f"mapper principal {mapper_principal}" in check_access_drift(cluster.pk).reverting
