"""The compiled JSON Schema check (jsonschema-rs) never accepts an event that jsonschema refuses: compared on a
corpus of schemas and a few thousand events built from awkward values, and schemas outside the shared keywords
get no compiled validator."""

import itertools

import jsonschema_rs
import pytest

from onboarding.schemas._jsonschema import event_validator
from onboarding.schemas._jsonschema_fast import compiled_validator

DRAFT_7 = "http://json-schema.org/draft-07/schema#"
DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"

# Values where the two libraries could part: integral floats, booleans beside numbers, integers past 64 bits,
# a final newline and non-ASCII digits against patterns, strings at the edge of each format.
VALUES = [
    None, True, False, 0, 1, -1, 1.0, 2.5, 0.3, -0.0, 10**30, -(10**30), 2**63, 2**64, float("inf"),
    "", "a", "ICU", "icu", "123", "123\n", "\u0663\u0664\u0665", "x" * 40, "\u00e9\u00e9",
    "2024-02-29", "2024-02-30", "2023-02-29", "2024-1-1", "2024-01-01T10:00:00Z", "2024-01-01t10:00:00z",
    "2024-01-01T10:00:00+01:00", "2024-01-01 10:00:00", "10:00:00Z", "25:00:00Z",
    "a@b", "@@", "ward@hospital.example", "10.0.0.1", "256.1.1.1", "::1", "1::2::3",
    "6f1c1a52-2b6e-4c3a-9f57-3c1f0a0e6a41", "6f1c1a522b6e4c3a9f573c1f0a0e6a41",
    "(?<n>a)", "(?P<n>a)", "a{,3}", "[", "https://example.org/a b",
    [], [1], [1, 1.0], ["a", "b"], ["a", 1], {}, {"a": 1},
]

SCHEMAS = {
    "the gateway benchmark's event (draft 7)": {
        "$schema": DRAFT_7, "type": "object",
        "properties": {"id": {"type": "integer", "minimum": 0}, "ward": {"type": "string", "maxLength": 32},
                       "amount": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}},
                       "note": {"type": "string"}},
        "required": ["id", "ward", "amount", "tags", "note"], "additionalProperties": False},
    "formats (2020-12)": {
        "$schema": DRAFT_2020, "type": "object",
        "properties": {name: {"type": "string", "format": name} for name in (
            "date", "date-time", "time", "email", "idn-email", "ipv4", "ipv6", "uuid", "regex", "uri",
            "hostname", "idn-hostname", "not-a-known-format")}},
    "patterns and lengths": {
        "type": "object",
        "properties": {"digits": {"type": "string", "pattern": "^[0-9]+$"},
                       "unicode_digits": {"pattern": "^\\d+$"}, "ward": {"pattern": "^[A-Z]{3}", "minLength": 3},
                       "short": {"type": "string", "maxLength": 2}},
        "additionalProperties": {"type": ["string", "null"]}},
    "numbers and bounds": {
        "type": "object",
        "properties": {"int": {"type": "integer", "minimum": -1, "maximum": 10**20},
                       "open": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 2.5},
                       "any_number": {"type": "number"}, "nullable": {"type": ["integer", "null"]}}},
    "combinators and references (2020-12)": {
        "$schema": DRAFT_2020, "$defs": {"ward": {"enum": ["ICU", "MATERNITY", 1, None, True]}},
        "type": "object",
        "properties": {"ward": {"$ref": "#/$defs/ward"},
                       "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 2}]},
                       "any": {"anyOf": [{"const": 1}, {"const": "a"}, {"type": "array", "maxItems": 1}]},
                       "all": {"allOf": [{"type": "string"}, {"not": {"const": "icu"}}]},
                       "cond": {"if": {"type": "string"}, "then": {"minLength": 3}, "else": {"type": "array"}},
                       "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                                "minItems": 1},
                       "bag": {"type": "object", "minProperties": 1, "maxProperties": 1,
                               "dependentRequired": {"a": ["b"]}}},
        "required": ["ward"]},
    "draft 7 tuples and definitions": {
        "$schema": DRAFT_7, "definitions": {"n": {"type": "integer"}},
        "type": "object",
        "properties": {"tuple": {"type": "array", "items": [{"type": "string"}, {"$ref": "#/definitions/n"}]},
                       "list": {"type": "array", "items": {"$ref": "#/definitions/n"}},
                       "flag": {"const": True}, "nothing": False, "anything": True}},
}

# An event of each schema that both accept: the compiled path must carry these, or it saves nothing.
VALID = {
    "the gateway benchmark's event (draft 7)": {"id": 7, "ward": "ICU", "amount": 12.5, "tags": ["a"], "note": ""},
    "formats (2020-12)": {"date": "2024-02-29", "date-time": "2024-01-01T10:00:00Z", "email": "ward@hospital.example",
                          "ipv4": "10.0.0.1", "uuid": "6f1c1a52-2b6e-4c3a-9f57-3c1f0a0e6a41"},
    "patterns and lengths": {"digits": "123", "ward": "ICU-2", "short": "ab", "other": None},
    "numbers and bounds": {"int": 10**19, "open": 2.4, "any_number": -0.5, "nullable": None},
    "combinators and references (2020-12)": {"ward": "ICU", "one": 1, "any": [1], "all": "ward",
                                             "cond": "abc", "pair": ["a", 2], "bag": {"b": 1}},
    "draft 7 tuples and definitions": {"tuple": ["a", 1], "list": [1, 2], "flag": True, "anything": {}},
}

# Left to jsonschema alone: each keyword here is read differently by the crate, or not yet proven alike.
NOT_SHARED = {
    "multipleOf": {"type": "object", "properties": {"dose": {"multipleOf": 0.1}}},
    "uniqueItems": {"type": "object", "properties": {"tags": {"uniqueItems": True}}},
    "patternProperties": {"type": "object", "patternProperties": {"^x": {"type": "integer"}}},
    "a remote $ref": {"$ref": "https://schemas.example.org/ward.json"},
    "$ref with a sibling in draft 7": {"$schema": DRAFT_7, "definitions": {"n": {"type": "integer"}},
                                       "$ref": "#/definitions/n", "minimum": 3},
    "draft 4": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"},
    "an unknown keyword": {"type": "object", "unevaluatedProperties": False},
}


def events_for(schema: dict, valid: dict) -> list:
    """The valid event with each property set to each value, or left out; each value at each property alone;
    pairs of values; the values themselves."""
    names = list(schema.get("properties", {})) + ["extra"]
    events = [{**valid, name: value} for name, value in itertools.product(names, VALUES)]
    events += [{k: v for k, v in valid.items() if k != name} for name in valid]
    events += [{name: value} for name, value in itertools.product(names, VALUES)]
    events += [{**valid, a: va, b: vb} for a, b in itertools.combinations(names[:4], 2) for va in VALUES[::7]
               for vb in VALUES[3::5]]
    return events + VALUES + [{}]


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_compiled_check_accepts_nothing_that_jsonschema_refuses(name):
    schema = SCHEMAS[name]
    validator = event_validator(schema)
    assert validator.compiled is not None, "the corpus is meant for the compiled path"

    assert validator.compiled.is_valid(VALID[name]) and validator.checker.is_valid(VALID[name])
    events = events_for(schema, VALID[name])
    parted = [e for e in events if validator.compiled.is_valid(e) and not validator.checker.is_valid(e)]
    assert parted == []
    assert [validator.is_valid(e) for e in events] == [validator.checker.is_valid(e) for e in events]
    assert sum(map(validator.compiled.is_valid, events)) >= 30  # the corpus reaches the accepting side too


@pytest.mark.parametrize("name", NOT_SHARED)
def test_a_schema_outside_the_shared_keywords_is_checked_by_jsonschema_alone(name):
    assert event_validator(NOT_SHARED[name]).compiled is None


def test_where_the_crate_alone_would_accept_jsonschema_decides():
    """What the exclusions and the Python judges are for: the crate's own reading of each case accepts an event
    that jsonschema refuses."""

    assert jsonschema_rs.validator_for({"multipleOf": 0.1}).is_valid(0.3)
    assert not event_validator({"multipleOf": 0.1}).is_valid(0.3)

    assert jsonschema_rs.validator_for({"format": "regex"}, validate_formats=True).is_valid("(?<n>a)")
    assert not event_validator({"format": "regex"}).is_valid("(?<n>a)")


def test_a_pattern_is_read_as_python_reads_it():
    """By the compiled path too: no event is sent to the slow path for a regex dialect's difference."""
    validator = event_validator({"type": "string", "pattern": "^[0-9]+$"})
    # Python's $ matches before a final newline; the crate's own regex engine refuses this one.
    assert not jsonschema_rs.validator_for({"pattern": "^[0-9]+$"}).is_valid("123\n")
    assert validator.compiled.is_valid("123\n") and validator.checker.is_valid("123\n")
    assert not validator.compiled.is_valid("12a") and not validator.is_valid("12a")


def test_a_value_the_crate_cannot_take_is_judged_by_jsonschema():
    """Events are JSON documents; anything else (bytes, a date) makes the crate raise, and jsonschema judges."""
    validator = event_validator({"type": "object", "properties": {"at": {"type": "string"}}})
    assert validator.compiled is not None
    assert not validator.is_valid({"at": b"2024-01-01"})
    assert validator.is_valid({"at": "2024-01-01"})


def test_a_schema_the_crate_refuses_to_build_has_no_compiled_validator():
    assert compiled_validator({"type": "string", "pattern": "("}, None) is None
