"""The API's 400 body is one flat map of path -> messages, however DRF nests a field's errors."""

from rest_framework.exceptions import ErrorDetail

from portal.error_paths import flat_errors


def test_flat_errors_stay_as_they_are():
    assert flat_errors({"name": ["Enter a name."]}) == {"name": ["Enter a name."]}


def test_a_dict_fields_errors_are_keyed_by_dotted_path():
    detail = {"configs": {"retention.ms": [ErrorDetail("Not a number.")]}}

    assert flat_errors(detail) == {"configs.retention.ms": ["Not a number."]}


def test_a_list_fields_errors_are_keyed_by_index():
    detail = {"tags": {0: [ErrorDetail("Not a valid string.")], 3: [ErrorDetail("Too long.")]}}

    assert flat_errors(detail) == {"tags[0]": ["Not a valid string."], "tags[3]": ["Too long."]}


def test_many_items_errors_name_the_item_and_its_field_and_skip_valid_items():
    detail = {"topics": [{}, {}, {"partitions": [ErrorDetail("A whole number.")],
                                  "non_field_errors": [ErrorDetail("Duplicate.")]}]}

    assert flat_errors(detail) == {"topics[2].partitions": ["A whole number."], "topics[2]": ["Duplicate."]}


def test_nested_serializers_nest_their_paths():
    detail = {"schema": {"fields": {1: {"type": [ErrorDetail("Unknown type.")]}}}}

    assert flat_errors(detail) == {"schema.fields[1].type": ["Unknown type."]}


def test_errors_not_tied_to_a_field_are_non_field_errors():
    assert flat_errors([ErrorDetail("Invalid data.")]) == {"non_field_errors": ["Invalid data."]}
    assert flat_errors(ErrorDetail("Invalid data.")) == {"non_field_errors": ["Invalid data."]}
