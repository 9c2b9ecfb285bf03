"""The editor's and the API's preview over the source's recent events on the real broker: read as peek reads them
(a sensitive source field comes masked, so the canonical field it feeds shows the mask) and audited as a peek."""

import json

import pytest
from confluent_kafka import Producer
from django.conf import settings

from onboarding.models import AuditEvent, SensitiveField
from onboarding.reconcile import topics as topic_reconciler
from onboarding.services.mappings_check import mapping_preview
from tests.fixtures.waiting import wait_for
from tests.integration.mappings.helpers import EVENT, RULES

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def test_recent_events_are_mapped_masked_and_audited(carol, clinical, admissions, canonical, gender_table, cluster,
                                                     kafka_admin):
    SensitiveField.objects.create(schema=admissions.schemas.get(), path="ssn", classification="pii")
    topic_reconciler.reconcile_cluster(cluster.pk)
    wait_for(lambda: admissions.name in kafka_admin.list_topics(timeout=10).topics, timeout=30,
             message="the source topic on the broker")
    try:
        producer = Producer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS})
        for i in range(3):
            producer.produce(admissions.name, json.dumps({**EVENT, "pid": f"p-{i}"}).encode())
        assert producer.flush(30) == 0

        answer = mapping_preview(actor=carol, team=clinical, source_topic=admissions, canonical_topic=canonical,
                                 rules=RULES, recent=5)

        assert answer["unavailable"] == "" and answer["errors"] == {}
        outputs = [r["output"] for r in answer["results"]]
        assert sorted(o["id"] for o in outputs) == ["p-0", "p-1", "p-2"]
        assert {o["national_id"] for o in outputs} == {"[PII]"}  # masked on the way in, as peek shows it
        peek = AuditEvent.objects.get(action="topic.peek", resource_id=str(admissions.pk))
        assert peek.after == {"limit": 5, "events": 3}
    finally:
        kafka_admin.delete_topics([admissions.name], operation_timeout=30)[admissions.name].result(30)
