"""The services keep the catalogue current: a change is searchable as soon as its transaction commits."""

import io
import json

import pytest
from django.core.management import call_command

from onboarding.models import AuditEvent, CatalogEntry, SchemaField
from onboarding.search import catalogue_search
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.schemas import schema_version_submit
from onboarding.services.teams import team_update
from onboarding.services.topics import topic_update
from onboarding.services.topics_bulk import TopicRequest, topics_create_many

from .conftest import PATIENT_ADMISSION, stored_schema

pytestmark = pytest.mark.django_db


def names(user, q):
    return [hit.topic.name for hit in catalogue_search(user=user, q=q).hits]


def test_a_submitted_schema_version_makes_its_fields_searchable(topic_name, make_topic, alice):
    topic = make_topic(topic_name("admissions"))
    assert names(alice, "patient birth date") == []

    schema_version_submit(actor=alice, topic=topic, side="value", fmt="AVRO", text=json.dumps(PATIENT_ADMISSION),
                          via=AuditEvent.Via.API)

    assert names(alice, "patient birth date") == [topic.name]
    assert list(SchemaField.objects.filter(schema__topic=topic).values_list("path", flat=True)) == [
        "id", "patient", "patient.birth_date", "patient.ward"]
    assert CatalogEntry.objects.get(topic=topic).formats == ["AVRO"]


def test_a_topic_update_refreshes_its_entry(make_topic, alice):
    topic = make_topic("payments.orders", description="Orders placed")
    assert names(alice, "chargeback") == []

    topic_update(actor=alice, topic=topic, description="Orders and their chargebacks", tags=["disputes"])

    assert names(alice, "chargeback") == ["payments.orders"]
    assert names(alice, "disputes") == ["payments.orders"]
    assert names(alice, "placed") == []


def test_a_team_rename_reaches_every_topic_of_the_team(make_topic, alice, payments):
    make_topic("payments.one")
    make_topic("payments.two")

    team_update(actor=alice, team=payments, via=AuditEvent.Via.BROWSER, name="Money movement")

    assert sorted(names(alice, "money movement")) == ["payments.one", "payments.two"]


def test_bulk_registration_indexes_every_topic(alice, cluster, payments):
    topics_create_many(actor=alice, cluster=cluster, team=payments, requests=[
        TopicRequest(f"payments.bulk-{i}", partitions=1, replication_factor=1, description=f"batch item {i}")
        for i in range(30)])

    assert CatalogEntry.objects.filter(topic__name__startswith="payments.bulk-").count() == 30
    assert catalogue_search(user=alice, q="batch item").total == 30


def test_rebuild_restores_missing_entries_and_drops_stale_ones(make_topic, alice):
    kept = make_topic("payments.kept", description="kept for ever")
    stored_schema(kept, PATIENT_ADMISSION)
    CatalogEntry.objects.all().delete()
    SchemaField.objects.all().delete()
    assert names(alice, "ward") == []

    call_command("catalogue_rebuild", stdout=io.StringIO())

    assert names(alice, "ward") == ["payments.kept"]
    assert SchemaField.objects.filter(schema__topic=kept).count() == 4


def test_refreshing_a_deleted_topic_removes_its_entry(make_topic):
    topic = make_topic("payments.short-lived")
    topic.status = "deleted"
    topic.save()

    catalogue_refresh([topic.pk])

    assert not CatalogEntry.objects.filter(topic=topic).exists()
