"""The backfill writes the copies the sink's EventDocument would have written: scalars only, null included."""

import datetime as dt

from onboarding.models import EventStoreBinding
from onboarding.reconcile.event_store_backfill import copies_of, missing_filter, projection

COPIES = {"value.ward": "_i:value:ward", "value.member.id": "_i:value:member:id"}


def test_the_copy_name_has_no_dots_and_its_own_prefix():
    assert EventStoreBinding.copy_name("value.member.id") == "_i:value:member:id"


def test_scalars_and_null_are_copied_objects_lists_and_missing_fields_are_not():
    moment = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert copies_of({"value": {"ward": "W1", "member": {"id": 7}}}, COPIES) == {
        "_i:value:ward": "W1", "_i:value:member:id": 7}
    assert copies_of({"value": {"ward": None, "member": {"id": moment}}}, COPIES) == {
        "_i:value:ward": None, "_i:value:member:id": moment}
    assert copies_of({"value": {"ward": {"floor": 2}, "member": [{"id": 1}]}}, COPIES) == {}
    assert copies_of({"value": None}, COPIES) == {}


def test_a_copy_already_there_is_left_alone():
    assert copies_of({"value": {"ward": "W2", "member": {"id": 1}}, "_i:value:ward": "W1"}, COPIES) == {
        "_i:value:member:id": 1}


def test_the_documents_read_are_those_with_a_field_but_without_its_copy():
    assert missing_filter({"value.ward": "_i:value:ward"}) == {
        "_i:value:ward": {"$exists": False}, "value.ward": {"$exists": True}}
    assert missing_filter(COPIES) == {"$or": [
        {"_i:value:ward": {"$exists": False}, "value.ward": {"$exists": True}},
        {"_i:value:member:id": {"$exists": False}, "value.member.id": {"$exists": True}}]}
    assert projection(COPIES) == dict.fromkeys(
        ["value.ward", "_i:value:ward", "value.member.id", "_i:value:member:id"], 1)
