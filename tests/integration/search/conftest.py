"""Topics with schemas for the catalogue tests, registered through the services (no worker needed)."""

import hashlib
import json
import uuid

import pytest
from django.conf import settings

from onboarding.models import Schema, SchemaVersion
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.clusters import cluster_create
from onboarding.services.topics import topic_create

PATIENT_ADMISSION = {
    "type": "record", "name": "Admission", "namespace": "clinical.catalogue",
    "fields": [
        {"name": "id", "type": "string", "doc": "Admission identifier"},
        {"name": "patient", "type": {"type": "record", "name": "Patient", "fields": [
            {"name": "birth_date", "type": {"type": "int", "logicalType": "date"},
             "doc": "Date of birth of the patient"},
            {"name": "ward", "type": "string", "doc": "Where the patient stays"}]}},
    ],
}


def stored_schema(topic, document, fmt: str = "AVRO", side: str = "value") -> Schema:
    """A schema row with one version, written the way the schema service stores an accepted version,
    then the topic's catalogue entry refreshed (the service does both in one transaction)."""
    text = document if isinstance(document, str) else json.dumps(document)
    schema = Schema.objects.create(topic=topic, side=side, format=fmt)
    SchemaVersion.objects.create(schema=schema, number=1, text=text,
                                 fingerprint=hashlib.sha256(text.encode()).hexdigest())
    catalogue_refresh([topic.pk])
    return schema


@pytest.fixture
def test_cluster(db):
    """A second cluster in another environment (rows only: nothing here talks to it)."""
    return cluster_create(actor=None, name=f"catalogue-test-{uuid.uuid4().hex[:6]}", environment="test", order=1,
                          bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, reconcile_interval_seconds=3600)


@pytest.fixture
def make_topic(alice, cluster, payments):
    """``make_topic(name, **fields)``: a payments topic registered through topic_create."""

    def make(name: str, *, actor=None, team=None, on=None, **fields):
        return topic_create(actor=actor or alice, cluster=on or cluster, team=team or payments, name=name,
                            partitions=1, replication_factor=1, **fields)

    return make
