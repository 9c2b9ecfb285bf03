"""A page of results costs the same number of SQL queries whatever its size (no query per row)."""

import hashlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onboarding.models import Schema, SchemaVersion
from onboarding.search import catalogue_search
from onboarding.services.catalogue import catalogue_refresh
from onboarding.services.topics_bulk import TopicRequest, topics_create_many
from onboarding.views import catalogue as catalogue_views
from onboarding.views import topics as topic_views

pytestmark = pytest.mark.django_db
SIZES = (10, 100)


@pytest.fixture
def many_topics(alice, cluster, payments):
    """120 topics, each with an Avro schema whose fields and docs match the query "amount"."""
    topics = topics_create_many(actor=alice, cluster=cluster, team=payments, requests=[
        TopicRequest(f"payments.txn-{i:03d}", partitions=1, replication_factor=1, tags=("money", f"t{i % 3}"),
                     description=f"Transactions of region {i}") for i in range(120)])
    text = json.dumps({"type": "record", "name": "Txn", "fields": [
        {"name": "amount", "type": "long", "doc": "Amount in cents"},
        {"name": "fee", "type": {"type": "record", "name": "Fee", "fields": [
            {"name": "amount", "type": "long", "doc": "Fee amount in cents"}]}}]})
    schemas = Schema.objects.bulk_create([Schema(topic=t, side="value", format="AVRO") for t in topics])
    SchemaVersion.objects.bulk_create([SchemaVersion(schema=s, number=1, text=text,
                                                     fingerprint=hashlib.sha256(text.encode()).hexdigest())
                                       for s in schemas])
    catalogue_refresh([t.pk for t in topics])
    return topics


def queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


@pytest.mark.parametrize("q", ["amount", "", "txn"])
def test_the_search_selector_costs_the_same_at_every_page_size(many_topics, bob, q):
    counts = []
    for size in SIZES:
        def run(size=size):
            page = catalogue_search(user=bob, q=q, page_size=size)
            assert len(page.hits) == size
            if q == "amount":  # found through the fields: each hit says which ones
                assert all(hit.fields for hit in page.hits)
        counts.append(queries(run))
    assert counts[0] == counts[1]


def test_the_catalogue_page_costs_the_same_at_every_page_size(many_topics, client_for, bob, monkeypatch):
    client = client_for(bob)
    counts = []
    for size in SIZES:
        monkeypatch.setattr(catalogue_views, "PAGE_SIZE", size)
        def run(size=size):
            response = client.get("/catalogue/", {"q": "amount cents", "tag": "money"})
            assert response.content.decode().count('data-testid="hit"') == size
        counts.append(queries(run))
    assert counts[0] == counts[1]


def test_the_search_api_costs_the_same_at_every_page_size(many_topics, api_as, bob):
    client = api_as(bob)
    client.get("/api/v1/search/")  # a token's first use records it once; every later request costs the same
    counts = []
    for size in SIZES:
        def run(size=size):
            assert len(client.get("/api/v1/search/", {"q": "amount", "page_size": size}).json()["results"]) == size
        counts.append(queries(run))
    assert counts[0] == counts[1]


def test_the_topic_list_costs_the_same_at_every_page_size(many_topics, client_for, bob, monkeypatch):
    client = client_for(bob)
    counts = []
    for size in SIZES:
        monkeypatch.setattr(topic_views, "PAGE_SIZE", size)
        def run(size=size):
            response = client.get("/topics/", {"q": "txn"})
            assert response.content.decode().count("/topics/") >= size
        counts.append(queries(run))
    assert counts[0] == counts[1]
