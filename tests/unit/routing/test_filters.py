"""Subscription filters: JMESPath on {value, headers, key}, plain errors, never eval."""

import dataclasses

import pytest

from onboarding.routing import filters
from onboarding.routing.filters import (
    MAX_FILTER_LENGTH,
    CompiledFilter,
    FilterError,
    FilterEvaluationError,
    compile_filter,
)

ADMISSION = {"ward": "ICU", "amount": 250, "tags": ["urgent", "cardio"], "status": "admitted",
             "patient": {"age": 42}, "items": [1, 2, 3]}


def _matches(expression, value=None, **kwargs):
    return compile_filter(expression).matches(value=ADMISSION if value is None else value, **kwargs)


@pytest.mark.parametrize(("expression", "other"), [
    ("value.ward == 'ICU'", {**ADMISSION, "ward": "Maternity"}),
    ("value.amount > `100`", {**ADMISSION, "amount": 99}),
    ("contains(value.tags, 'urgent')", {**ADMISSION, "tags": ["routine"]}),
    ("value.patient.age >= `18` && value.status != 'cancelled'", {**ADMISSION, "patient": {"age": 17}}),
    ("value.patient.age >= `18` && value.status != 'cancelled'", {**ADMISSION, "status": "cancelled"}),
    ("length(value.items) > `2`", {**ADMISSION, "items": [1, 2]}),
])
def test_each_example_matches_its_event_and_not_a_different_one(expression, other):
    assert _matches(expression) is True
    assert _matches(expression, other) is False


def test_headers_and_key_are_part_of_the_document():
    assert _matches("headers.source == 'lab'", headers={"source": "lab"}) is True
    assert _matches("headers.source == 'lab'", headers={"source": "ward"}) is False
    assert _matches("headers.source == 'lab'") is False  # no headers reads as {}
    assert _matches("key == 'p-1'", key="p-1") is True
    assert _matches("key == 'p-1'") is False


@pytest.mark.parametrize(("expression", "expected"), [
    ("value.missing", False),          # null
    ("value.flag", False),             # false
    ("value.empty_text", False),       # ''
    ("value.empty_list", False),       # []
    ("value.empty_object", False),     # {}
    ("value.zero", True),              # 0 is true in JMESPath
    ("value.text", True),
    ("value.list", True),
    ("value.object", True),
    ("value.flag_on", True),
])
def test_the_result_counts_as_a_match_by_jmespath_truthiness(expression, expected):
    value = {"flag": False, "empty_text": "", "empty_list": [], "empty_object": {}, "zero": 0, "text": "x",
             "list": [0], "object": {"a": None}, "flag_on": True}
    assert _matches(expression, value) is expected


def test_a_value_that_is_not_an_object_is_still_filterable():
    assert _matches("value == 'ping'", "ping") is True
    assert _matches("value.ward == 'ICU'", ["not", "an", "object"]) is False


def test_a_syntax_error_names_its_column_in_plain_words():
    with pytest.raises(FilterError) as caught:
        compile_filter("value.tags[0]] == 'urgent'")
    assert str(caught.value) == "Invalid filter at column 14: unexpected token ']'"
    assert caught.value.column == 14
    assert not isinstance(caught.value, FilterEvaluationError)


@pytest.mark.parametrize(("expression", "message"), [
    ("value.ward = 'ICU'", "Invalid filter at column 12: unexpected character '=' (use == to compare)"),
    ("value.ward == 'ICU", "Invalid filter at column 15: 'ICU has no closing quote"),
    ("value.amount > `100", "Invalid filter at column 16: `100 has no closing backtick"),
    ("value.ward ==", "Invalid filter at column 14: the filter ends too early"),
    ("value.ward == 'ICU' &&\n  value..status", "Invalid filter at line 2, column 9: unexpected token '.'"),
])
def test_other_syntax_errors_are_explained_with_their_position(expression, message):
    with pytest.raises(FilterError, match="^Invalid filter at") as caught:
        compile_filter(expression)
    assert str(caught.value) == message


def test_unknown_functions_and_wrong_argument_counts_are_refused_when_compiling():
    # JMESPath itself would only notice these when evaluating the first event.
    with pytest.raises(FilterError, match=r"^Invalid filter at column 15: unknown function lenght\(\)\. Known"):
        compile_filter("value.ward && lenght(value.items)")
    with pytest.raises(FilterError, match=r"^Invalid filter at column 1: contains\(\) takes 2 arguments, not 1\.$"):
        compile_filter("contains(value.tags)")


def test_an_evaluation_type_error_is_a_filter_evaluation_error():
    compiled = compile_filter("contains(value.tags, 'urgent')")
    with pytest.raises(FilterEvaluationError) as caught:
        compiled.matches(value={"tags": 7})
    assert isinstance(caught.value, FilterError)
    assert str(caught.value) == ("The filter cannot be evaluated on this event: contains() expects an array or a "
                                 "string but got a number (7).")
    with pytest.raises(FilterEvaluationError, match=r"length\(\) expects"):
        compile_filter("length(value.items) > `2`").matches(value={"items": 3})


@pytest.mark.parametrize("expression", [None, "", "   ", "\n\t"])
def test_no_filter_or_a_blank_one_means_everything(expression):
    assert compile_filter(expression) is None


def test_the_length_limit_is_explained():
    at_limit = "value.ward == '" + "x" * (MAX_FILTER_LENGTH - 16) + "'"
    assert len(at_limit) == MAX_FILTER_LENGTH
    assert compile_filter(at_limit) is not None
    with pytest.raises(FilterError, match=r"^The filter is too long: 2001 characters, the limit is 2000\.$"):
        compile_filter(at_limit + " ")


def test_a_compiled_filter_is_a_frozen_value_keeping_its_parsed_expression():
    compiled = compile_filter("value.ward == 'ICU'")
    assert compiled == CompiledFilter("value.ward == 'ICU'")
    assert hash(compiled) == hash(CompiledFilter("value.ward == 'ICU'"))
    assert repr(compiled) == "CompiledFilter(expression=\"value.ward == 'ICU'\")"
    assert compiled._parsed.expression == "value.ward == 'ICU'"
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.expression = "true"
    with pytest.raises(FilterError):
        CompiledFilter("value.ward ==")  # constructing it directly checks it too


def test_the_filter_language_cannot_run_python():
    # No eval anywhere: Python is just an unknown token or a string to compare.
    with pytest.raises(FilterError):
        compile_filter("__import__('os').system('true')")
    assert _matches("value.ward == '__import__(\"os\")'") is False


def test_test_filter_tries_a_filter_on_a_sample_event():
    assert filters.test_filter("value.ward == 'ICU'", '{"ward": "ICU"}') == (True, None)
    assert filters.test_filter("value.ward == 'ICU'", '{"ward": "Maternity"}') == (False, None)
    assert filters.test_filter("headers.source == 'lab'", '{}', {"source": "lab"}) == (True, None)
    assert filters.test_filter(None, '{"anything": 1}') == (True, None)


def test_test_filter_explains_invalid_json_with_line_and_column():
    with pytest.raises(FilterError) as caught:
        filters.test_filter("value.ward == 'ICU'", '{"ward": "ICU",\n  "bed": }')
    assert str(caught.value) == "The sample event is not valid JSON at line 2, column 10: Expecting value."
    assert (caught.value.line, caught.value.column) == (2, 10)


def test_test_filter_raises_for_an_invalid_filter_and_an_evaluation_error():
    with pytest.raises(FilterError, match="^Invalid filter at column 14"):
        filters.test_filter("value.ward ==", '{"ward": "ICU"}')
    with pytest.raises(FilterEvaluationError):
        filters.test_filter("contains(value.tags, 'urgent')", '{"tags": 1}')
