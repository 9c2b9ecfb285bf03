"""Indexed fields on the real stack: the sink writes a top-level copy of each (what the indexes are on), the events
stored before a field was indexed get theirs from the backfill, a query on value.<field> finds both, and a
backfill that stopped halfway goes on where the copies end. BACKFILL_EVENTS events (200 by default)."""

import os

import pytest

from onboarding.event_store_query.service import topic_query
from onboarding.models import EventStoreBinding
from onboarding.reconcile import event_store_backfill
from onboarding.services.event_store import event_store_bind, event_store_update
from tests.fixtures.waiting import wait_for
from tests.integration.event_store.conftest import applied, avro_encoder, customer_records, produce

pytestmark = [pytest.mark.kafka, pytest.mark.registry, pytest.mark.django_db(transaction=True),
              pytest.mark.timeout(600)]

EVENTS = int(os.environ.get("BACKFILL_EVENTS", "200"))
COPY = "_i:value:customer"


def test_events_stored_before_a_field_was_indexed_get_its_copy(
        alice, payments_topic, producer_config, registry, store, worker):
    topic = payments_topic(partitions=2)
    encode = avro_encoder(registry, f"{topic.name}-value")
    binding = applied(event_store_bind(actor=alice, topic=topic, mode="log"))
    events = store[binding.collection_name]

    def records(start, stop):
        return customer_records(encode, start, stop, 7)

    produce(producer_config, topic.name, records(0, EVENTS))
    wait_for(lambda: events.count_documents({}) == EVENTS, timeout=300, interval=0.5, message="the first events")
    assert events.count_documents({COPY: {"$exists": True}}) == 0
    # Every document has the hour of its time, from the sink itself (a bounded range is read hour by hour).
    assert [d for d in events.find({}, {"_ts": 1, "_h": 1}) if d.get("_h") != d["_ts"].strftime("%Y-%m-%dT%H")] == []

    binding = applied(event_store_update(actor=alice, binding=EventStoreBinding.objects.get(pk=binding.pk),
                                         indexed_fields=["customer"]))
    assert worker.config(binding.connector_name)["transforms.document.indexed"] == "value.customer"
    assert events.index_information()[COPY]["key"] == [(COPY, 1)]
    queued = binding.backfill
    assert (queued["fields"], queued["state"]) == (["customer"], "queued")

    # What the worker runs for the queued task.
    report = event_store_backfill.run_backfill(binding.pk, queued["token"])

    assert report["updated"] == EVENTS, report
    assert [d for d in events.find({}, {"value.customer": 1, COPY: 1}) if d.get(COPY) != d["value"]["customer"]] == []
    done = EventStoreBinding.objects.get(pk=binding.pk).backfill
    assert (done["state"], done["updated"], done["error"]) == ("done", EVENTS, "")

    # Events written from now on carry the copy from the sink itself.
    produce(producer_config, topic.name, records(EVENTS, EVENTS + 20))
    wait_for(lambda: events.count_documents({}) == EVENTS + 20, timeout=300, interval=0.5, message="the new events")
    assert events.count_documents({"value.seq": {"$gte": EVENTS}, COPY: {"$exists": False}}) == 0

    # Users still name the field as they see it; the query reads the copy, which every event now has.
    result = topic_query(actor=alice, topic=topic, body={"filter": {"value.customer": "c3"}, "limit": 500})
    assert len(result.events) == events.count_documents({"value.customer": "c3"}) > 0
    assert {event["value"]["customer"] for event in result.events} == {"c3"}

    # A backfill that stopped halfway (some copies missing, its task lost) is queued again by the drift check
    # and goes on where the copies end.
    some = [d["_id"] for d in events.find({"value.seq": {"$lt": 30}}, {"_id": 1})]
    events.update_many({"_id": {"$in": some}}, {"$unset": {COPY: ""}})
    EventStoreBinding.objects.filter(pk=binding.pk).update(backfill={
        **done, "state": "running", "heartbeat_at": "2026-01-01T00:00:00+00:00"})
    assert event_store_backfill.requeue_if_stale(EventStoreBinding.objects.get(pk=binding.pk))
    report = event_store_backfill.run_backfill(binding.pk, queued["token"])
    assert report["updated"] == EVENTS + len(some)  # the count goes on
    assert events.count_documents({COPY: {"$exists": False}}) == 0

    # Fields only removed: nothing to backfill.
    binding = applied(event_store_update(actor=alice, binding=EventStoreBinding.objects.get(pk=binding.pk),
                                         indexed_fields=[]))
    assert COPY not in events.index_information()
    assert binding.backfill["state"] == "done"
