"""An aggregation's output is a portal topic of its team, on the real broker, registry and Postgres: managed by the
aggregation (edits and deletion refused, released when the aggregation is deleted), its value schema a Schema whose
versions follow the definition, its sensitive fields derived from the source's tags (and re-derived when they
change), masked by peek and in the gateway's grants table, shown in lineage and the catalogue."""

import json
import struct
import uuid

import pytest
from confluent_kafka import Producer
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onboarding.errors import ValidationError
from onboarding.lineage.nodes import lineage_of
from onboarding.models import Aggregation, ResourceStatus, Schema, SensitiveField, Topic
from onboarding.peek.service import topic_peek
from onboarding.platform.compacted import read_compacted
from onboarding.platform.connection import kafka_connection_for
from onboarding.reconcile import topics as topic_reconciler
from onboarding.reconcile.access import reconcile_access
from onboarding.reconcile.aggregations import reconcile_aggregations
from onboarding.reconcile.schemas import reconcile_schemas
from onboarding.search import SearchFilters, search_page
from onboarding.selectors.topic_neighbours import topic_neighbours
from onboarding.services.aggregation_outputs import DERIVED_NOTE
from onboarding.services.aggregations import aggregation_create, aggregation_delete, aggregation_update
from onboarding.services.sensitivity import sensitive_field_clear, sensitive_field_set
from onboarding.services.topics import topic_delete, topic_update
from tests.fixtures.waiting import wait_for
from tests.integration.aggregations.helpers import definition, with_value_schema

pytestmark = pytest.mark.django_db(transaction=True)

MEASURES = [{"name": "claims", "op": "count"}, {"name": "amount_total", "op": "sum", "field": "value.amount"},
            {"name": "providers", "op": "count_distinct", "field": "value.provider_id"},
            {"name": "top_provider", "op": "last", "field": "value.provider_id"}]


@pytest.fixture
def tables(settings, kafka_admin):
    """Definitions, status and grants tables of this test's own, removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    settings.AGGREGATIONS_TOPIC = f"_portal.aggregations-test-{suffix}"
    settings.AGGREGATIONS_STATUS_TOPIC = f"_portal.aggregations-status-test-{suffix}"
    settings.GATEWAY_GRANTS_TOPIC = f"_portal.gateway-grants-test-{suffix}"
    yield
    _delete_topics(kafka_admin, [settings.AGGREGATIONS_TOPIC, settings.AGGREGATIONS_STATUS_TOPIC,
                                 settings.GATEWAY_GRANTS_TOPIC])


def _delete_topics(kafka_admin, names):
    existing = [name for name in names if name in kafka_admin.list_topics(timeout=10).topics]
    for future in (kafka_admin.delete_topics(existing, operation_timeout=30).values() if existing else []):
        future.result(30)


@pytest.fixture
def source(alice, payments_topic, registry_subjects, kafka_admin):
    """A 3-partition payments topic whose value's provider_id is tagged PHI through the sensitivity service."""
    topic = with_value_schema(payments_topic(partitions=3))
    registry_subjects.append(f"{topic.name}-value")
    sensitive_field_set(actor=alice, schema=topic.schemas.get(side="value"), path="provider_id", classification="phi")
    yield topic
    _delete_topics(kafka_admin, [topic.name])


@pytest.fixture
def aggregation(alice, payments, source, registry_subjects, kafka_admin):
    output = f"payments.agg-{uuid.uuid4().hex[:8]}"
    registry_subjects.append(f"{output}-value")
    agg = aggregation_create(actor=alice, **definition(payments, source, output_topic=output, measures=MEASURES))
    yield agg
    _delete_topics(kafka_admin, [output, f"{output}.late"])


def output_of(agg: Aggregation) -> Topic:
    return Topic.objects.get(pk=Aggregation.objects.get(pk=agg.pk).output_id)


def derived(topic: Topic) -> dict[str, str]:
    return dict(SensitiveField.objects.filter(schema__topic=topic, schema__side="value")
                .values_list("path", "classification"))


def test_the_output_is_a_topic_of_the_team_managed_by_the_aggregation(aggregation, alice, payments, source):
    output = output_of(aggregation)

    assert (output.name, output.team, output.cluster_id) == (aggregation.output_topic, payments, source.cluster_id)
    assert output.partitions == 3 and output.configs["cleanup.policy"] == "delete"
    assert output.managed_by == aggregation and output.status == ResourceStatus.PENDING
    schema = output.schemas.get(side="value")
    assert schema.format == "JSON" and schema.versions.count() == 1
    assert set(json.loads(schema.versions.get().text)["properties"]) == {
        "group", "window_start", "window_end", "claims", "amount_total", "providers", "top_provider"}
    with pytest.raises(ValidationError) as refused:
        topic_update(actor=alice, topic=output, description="mine now")
    assert "managed by aggregation payments.per-provider" in refused.value.message_dict["description"][0]
    with pytest.raises(ValidationError) as refused:
        topic_delete(actor=alice, topic=output, confirm_name=output.name, delete_schemas=True)
    assert "change or delete the aggregation instead" in refused.value.message_dict["__all__"][0]


def test_deleting_the_aggregation_releases_its_output_with_the_results(cluster, tables, aggregation, alice):
    reconcile_aggregations(cluster.pk)
    aggregation_delete(actor=alice, aggregation=Aggregation.objects.get(pk=aggregation.pk))
    assert output_of(aggregation).managed_by is not None  # still written while the engine stops

    report = reconcile_aggregations(cluster.pk)

    assert report.deleted == 1, report.errors
    output = output_of(aggregation)
    assert output.managed_by is None and output.is_live
    assert topic_update(actor=alice, topic=output, description="Kept results").description == "Kept results"


def test_value_carrying_measures_of_a_tagged_field_are_tagged_and_follow_the_source(aggregation, alice, source):
    output = output_of(aggregation)

    # group_by value.provider_id and last(provider_id) carry it; counts of it do not; amount is not tagged.
    assert derived(output) == {"group": "phi", "top_provider": "phi"}
    note = SensitiveField.objects.get(schema__topic=output, path="top_provider").note
    assert note.startswith(DERIVED_NOTE) and "value.provider_id" in note and source.name in note
    schema = Schema.objects.get(topic=output, side="value")
    assert json.loads(schema.versions.get().text)["properties"]["top_provider"]["confluent:tags"] == ["PHI"]

    source_schema = source.schemas.get(side="value")
    sensitive_field_clear(actor=alice, schema=source_schema, path="provider_id")
    assert derived(output) == {}
    assert "confluent:tags" not in json.loads(schema.versions.order_by("-number").first().text)["properties"]["group"]

    sensitive_field_set(actor=alice, schema=source_schema, path="amount", classification="confidential")
    assert derived(output) == {"amount_total": "confidential"}
    assert schema.versions.count() == 3


def test_a_tag_set_by_hand_on_the_output_stays_when_the_source_is_retagged(aggregation, alice, source):
    output = output_of(aggregation)
    schema = output.schemas.get(side="value")
    sensitive_field_set(actor=alice, schema=schema, path="claims", classification="confidential", note="volumes")

    sensitive_field_clear(actor=alice, schema=source.schemas.get(side="value"), path="provider_id")

    assert derived(output) == {"claims": "confidential"}


def test_a_change_its_output_readers_could_not_read_is_refused_at_save(aggregation, alice):
    agg = Aggregation.objects.get(pk=aggregation.pk)
    with pytest.raises(ValidationError) as refused:
        aggregation_update(actor=alice, aggregation=agg, measures=[m for m in MEASURES if m["name"] != "amount_total"])
    assert "amount_total" in refused.value.message_dict["measures"][0]
    assert Aggregation.objects.get(pk=agg.pk).version == 1

    changed = aggregation_update(actor=alice, aggregation=agg, measures=[*MEASURES, {"name": "n", "op": "count"}])

    assert changed.version == 2
    assert Schema.objects.get(topic=output_of(agg), side="value").versions.count() == 2


def test_a_new_output_name_gets_a_new_topic_and_releases_the_old_one(aggregation, alice, registry_subjects,
                                                                        kafka_admin):
    first = output_of(aggregation)
    name = f"payments.agg-{uuid.uuid4().hex[:8]}"
    registry_subjects.append(f"{name}-value")

    aggregation_update(actor=alice, aggregation=Aggregation.objects.get(pk=aggregation.pk), output_topic=name)

    second = output_of(aggregation)
    assert second.name == name and second.managed_by == aggregation and derived(second) == derived(first)
    assert Topic.objects.get(pk=first.pk).managed_by is None


def _produce_result(output: Topic, schema_id: int, value: dict) -> None:
    producer = Producer({"bootstrap.servers": django_settings.KAFKA_BOOTSTRAP_SERVERS})
    producer.produce(output.name, key=value["group"].encode(),
                     value=b"\x00" + struct.pack(">I", schema_id) + json.dumps(value).encode())
    assert producer.flush(30) == 0


def test_peek_and_the_gateways_masks_hide_the_field_derived_from_a_phi_field(cluster, tables, aggregation, alice,
                                                                             kafka_admin):
    assert topic_reconciler.reconcile_cluster(cluster.pk).errors == {}
    reconcile_schemas(cluster.pk)
    report = reconcile_aggregations(cluster.pk)
    assert not report.errors, report.errors
    agg = Aggregation.objects.get(pk=aggregation.pk)
    output = output_of(agg)
    metadata = kafka_admin.list_topics(output.name, timeout=10).topics[output.name]
    assert len(metadata.partitions) == 3
    _produce_result(output, agg.output_schema_id, {
        "group": "prov-17", "window_start": "2026-12-06T10:00:00.000Z", "window_end": "2026-12-06T11:00:00.000Z",
        "claims": 2, "amount_total": 250.5, "providers": 1, "top_provider": "prov-17"})

    peeked = wait_for(lambda: topic_peek(actor=alice, topic=output).events, timeout=30, message="the result")

    value = peeked[0].value
    assert (value["top_provider"], value["group"]) == ("[PHI]", "[PHI]")
    assert (value["claims"], value["amount_total"], value["providers"]) == (2, 250.5, 1)

    assert reconcile_access(cluster.pk).retry_in is None
    grants = read_compacted(kafka_connection_for(cluster), django_settings.GATEWAY_GRANTS_TOPIC)
    row = json.loads(grants[f"topic:{output.name}"])
    assert row["masks"] == {"value": {"group": "phi", "top_provider": "phi"}}, row


def test_lineage_and_the_catalogue_show_the_aggregation_between_source_and_output(aggregation, alice, source):
    output = output_of(aggregation)

    below = lineage_of(alice, source, topic_neighbours(source))
    above = lineage_of(alice, output, topic_neighbours(output))

    key = f"aggregation-{aggregation.pk}"
    assert (f"topic-{source.pk}", key) in {(e.source, e.target) for e in below.edges}
    assert (key, f"topic-{output.pk}") in {(e.source, e.target) for e in above.edges}
    node = next(p.node for p in above.nodes if p.node.key == key)
    assert node.label == "aggregation payments.per-provider" and source.name in node.detail
    hits = search_page(alice, q=output.name, filters=SearchFilters(), number=1, page_size=10).hits
    assert hits[0].topic == output and hits[0].produced_by == "payments.per-provider"


def test_the_lineage_costs_the_same_queries_for_one_aggregation_and_three(aggregation, alice, payments, source,
                                                                         registry_subjects, kafka_admin):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            lineage_of(alice, source, topic_neighbours(source))
        return len(captured)

    one = queries()
    outputs = [f"payments.agg-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    registry_subjects.extend(f"{name}-value" for name in outputs)
    for number, name in enumerate(outputs):
        aggregation_create(actor=alice, **definition(payments, source, name=f"per-provider-{number}",
                                                     output_topic=name, measures=MEASURES))
    try:
        below = lineage_of(alice, source, topic_neighbours(source))
        assert sum(p.node.kind == "aggregation" for p in below.nodes) == 3
        assert queries() == one
    finally:
        _delete_topics(kafka_admin, [n for name in outputs for n in (name, f"{name}.late")])


def test_the_topic_page_names_the_managing_aggregation_and_offers_no_edit_or_delete(client_for, aggregation, alice):
    output = output_of(aggregation)

    page = client_for(alice).get(f"/topics/{output.pk}/").content.decode()

    assert "Managed by aggregation" in page and f"/aggregations/{aggregation.pk}/" in page
    assert f"/topics/{output.pk}/edit/" not in page and f"/topics/{output.pk}/delete/" not in page
    catalogue = client_for(alice).get("/catalogue/", {"q": output.name}).content.decode()
    assert "results of aggregation" in catalogue and "payments.per-provider" in catalogue
