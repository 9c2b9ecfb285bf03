"""Masking sensitive fields in decoded events: nested records, arrays, unions, maps, missing fields."""

from onboarding.schemas.masking import Masker, mask, path_tokens


def test_path_tokens_split_names_items_and_map_values():
    assert path_tokens("visits[].code") == ["visits", "[]", "code"]
    assert path_tokens("labels{}") == ["labels", "{}"]
    assert path_tokens("[].id") == ["[]", "id"]


def test_a_top_level_field_is_replaced_by_its_classification_and_others_stay():
    event = {"id": "o-1", "ssn": "123-45-6789", "amount": 12}

    assert mask(event, {"ssn": "phi"}) == {"id": "o-1", "ssn": "[PHI]", "amount": 12}
    assert event["ssn"] == "123-45-6789"  # the input is not changed


def test_a_field_of_a_nested_record_is_masked_by_its_dotted_path():
    event = {"patient": {"name": "Ann", "address": {"zip": "1011", "city": "Amsterdam"}}}

    masked = mask(event, {"patient.address.zip": "pii", "patient.name": "phi"})

    assert masked == {"patient": {"name": "[PHI]", "address": {"zip": "[PII]", "city": "Amsterdam"}}}


def test_every_item_of_an_array_of_records_is_masked():
    event = {"visits": [{"code": "A1", "ward": "3"}, {"code": "B2", "ward": "4"}]}

    masked = mask(event, {"visits[].code": "phi"})

    assert masked == {"visits": [{"code": "[PHI]", "ward": "3"}, {"code": "[PHI]", "ward": "4"}]}


def test_a_tagged_record_or_array_is_replaced_whole():
    event = {"patient": {"name": "Ann"}, "visits": [{"code": "A1"}]}

    assert mask(event, {"patient": "phi", "visits": "secret"}) == {"patient": "[PHI]", "visits": "[SECRET]"}


def test_a_union_of_null_and_record_masks_the_record_branch_and_keeps_null():
    tags = {"contact.phone": "pii"}

    assert mask({"contact": {"phone": "+31 6"}}, tags) == {"contact": {"phone": "[PII]"}}
    assert mask({"contact": None}, tags) == {"contact": None}
    assert mask({"contact": {"phone": None}}, tags) == {"contact": {"phone": None}}


def test_missing_fields_and_unexpected_shapes_are_left_alone():
    tags = {"patient.name": "phi", "visits[].code": "phi", "absent": "secret"}

    assert mask({"other": 1}, tags) == {"other": 1}
    assert mask({"patient": "just text", "visits": {"code": "x"}}, tags) == {"patient": "just text",
                                                                           "visits": {"code": "x"}}
    assert mask("a plain string value", tags) == "a plain string value"
    assert mask(None, tags) is None


def test_map_values_and_arrays_inside_arrays():
    event = {"labels": {"a": {"secret": 1, "open": 2}}, "rows": [[{"v": 1}], [{"v": 2}]]}

    masked = mask(event, {"labels{}.secret": "secret", "rows[][].v": None})

    assert masked == {"labels": {"a": {"secret": "[SECRET]", "open": 2}}, "rows": [[{"v": "•••"}], [{"v": "•••"}]]}


def test_no_tags_return_the_value_itself():
    event = {"a": 1}

    assert mask(event, {}) is event


def test_a_masker_prepared_once_masks_many_values_like_mask_does_in_place():
    paths = {"patient.ssn": "phi", "visits[].code": "pii"}
    masker = Masker(paths)
    events = [{"patient": {"ssn": f"s{i}", "name": "Ann"}, "visits": [{"code": f"c{i}"}]} for i in range(3)]
    expected = [mask(event, paths) for event in events]

    masked = [masker.mask_own(event) for event in events]

    assert masked == expected and events == expected  # in place: the caller's own fresh values
    assert Masker({}).mask_own(events[0]) is events[0]
