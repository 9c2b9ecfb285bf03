"""The rule index matches exactly what evaluating every rule's filter on every event matches."""

import json
import random

import jmespath
import pytest

from onboarding.routing.decode import DecodeError
from onboarding.routing.filters import FilterEvaluationError, truthy
from onboarding.routing.rule_index import SourceIndex, equality_key, shape_of
from onboarding.routing.rules import Rule

WARDS = ["ICU", "Maternity", "ER", ""]
# Values where Python's and JMESPath's equality differ (1 == True, 0 == False, 1 == 1.0) or a type changes.
SCALARS = [0, 1, 1.0, 2, -3.5, True, False, None, "1", "true", "ICU", "", "x", float("nan"), 10**20]
CONTAINERS = [[], [1], {}, {"a": 1}, ["ICU"]]


def _literal(value) -> str:
    return f"`{json.dumps(value)}`"


def _filters(rng: random.Random) -> list[str]:
    """Equality, presence, headers, key, && with an indexable left side, and filters that are never indexed."""
    ward = rng.choice(WARDS)
    scalar = rng.choice(SCALARS)
    header = rng.choice(["source", "x-kind", "missing"])
    return [
        f"value.ward == '{ward}'",
        f"'{ward}' == value.ward",
        f"value.n == {_literal(scalar)}",
        f"{_literal(scalar)} == value.patient.age",
        f"value.flag == {_literal(rng.choice([True, False, None, 0, 1]))}",
        "value.ward",
        "value.patient.age",
        "value.tags",
        "value",
        f"headers.\"{header}\" == '{rng.choice(['lab', 'ward', ''])}'",
        f"headers.\"{header}\"",
        f"headers.\"{header}\" == `null`",
        f"key == '{rng.choice(['p-1', 'p-2'])}'",
        "key",
        f"value.ward == '{ward}' && value.n > `1`",
        f"value.ward == '{ward}' && contains(value.tags, 'urgent')",
        f"headers.source == 'lab' && value.n == {_literal(scalar)}",
        "value.tags && length(value.tags) > `1`",
        f"value.n < {_literal(rng.choice([0, 1, 1.5, -3.5, 2]))}",
        f"value.n >= {_literal(rng.choice([0, 1, 1.5, -3.5, 2]))}",
        f"{_literal(rng.choice([0, 1, 2]))} > value.patient.age",
        f"value.patient.age <= {_literal(rng.choice([0, 1, 2]))} && value.flag",
        f"value.n > {_literal(rng.choice([0, 1, 2]))} && contains(value.tags, 'urgent')",
        # Never indexed: other comparisons, functions, literals that are lists, || and !, projections.
        "value.n > 'a'",
        "value.n != `1`",
        "contains(value.tags, 'urgent')",
        "length(value.tags) > `1`",
        f"value.tags == {_literal(['urgent'])}",
        f"value.ward == '{ward}' || headers.source == 'lab'",
        "!(value.flag)",
        "!(value.n) || value.ward == 'ER'",
        "value.items[?n > `1`]",
        "@.value.ward == 'ICU'",
        "value.patient.*",
    ]


def _value(rng: random.Random):
    if rng.random() < 0.05:
        return rng.choice(["ping", 7, ["not", "an", "object"], None])
    value = {}
    for name, choices in (("ward", WARDS + [1, None, ["ICU"]]), ("n", SCALARS + CONTAINERS),
                          ("flag", SCALARS), ("tags", [[], ["urgent"], ["urgent", "cardio"], "urgent", 3, None]),
                          ("patient", [{"age": rng.choice(SCALARS + CONTAINERS)}, {}, None, "old", 5]),
                          ("items", [[{"n": 1}, {"n": 2}], [], None])):
        if rng.random() < 0.85:
            value[name] = rng.choice(choices)
    return value


def _headers(rng: random.Random) -> dict[str, str]:
    return {name: rng.choice(["lab", "ward", ""]) for name in ("source", "x-kind", "other") if rng.random() < 0.6}


def _expected(rules, value, headers, key):
    """Every rule's filter evaluated on the event by JMESPath itself: (position, whether it failed)."""
    outcomes = []
    document = {"value": value, "headers": headers, "key": key}
    for position, rule in enumerate(rules):
        if rule.broken:
            continue
        if rule.filter is None:
            outcomes.append((position, False))
            continue
        try:
            if truthy(jmespath.search(rule.filter, document)):
                outcomes.append((position, False))
        except Exception:  # what the router dead-letters: a type error in a function or a comparison
            outcomes.append((position, True))
    return outcomes


def _actual(index, value, headers, key):
    outcomes = index.match(lambda: value, headers, key)
    assert all(o.error is None or isinstance(o.error, FilterEvaluationError) for o in outcomes)
    return [(o.position, o.error is not None) for o in outcomes]


@pytest.mark.parametrize("seed", range(40))
def test_the_index_matches_what_every_filter_matches(seed):
    rng = random.Random(seed)
    pool = _filters(rng) + [None]
    expressions = [rng.choice(pool) for _ in range(rng.randint(1, 60))]
    rules = [Rule(f"sub-{i:03d}", "src", "dst", expression, "dst.dlq") for i, expression in enumerate(expressions)]
    index = SourceIndex(rules)
    for _ in range(150):
        value, headers, key = _value(rng), _headers(rng), rng.choice(["p-1", "p-2", None])
        assert _actual(index, value, headers, key) == _expected(rules, value, headers, key), (
            value, headers, key)


def test_the_generated_rules_exercise_every_part_of_the_index():
    # So the comparison above cannot pass by everything landing in the residual list.
    rules = [Rule(f"sub-{i:03d}", "src", "dst", e, "dst.dlq") for i, e in enumerate(_filters(random.Random(1)))]
    index = SourceIndex(rules)
    assert {path for path in index.equal} >= {("value", "ward"), ("value", "n"), ("headers", "source"), ("key",)}
    assert {path for path in index.truthy} >= {("value", "ward"), ("value",), ("headers", "source"), ("key",)}
    assert {path for path in index.ranges} >= {("value", "n"), ("value", "patient", "age")}
    assert len(index.residual) == 11
    assert index.indexed == len(rules) - 11


@pytest.mark.parametrize(("expression", "shape"), [
    ("value.ward == 'ICU'", ("equal", ("value", "ward"), "ICU", True)),
    ("`3` == value.n", ("equal", ("value", "n"), 3, True)),
    ('headers."x-source" == \'lab\'', ("equal", ("headers", "x-source"), "lab", True)),
    ("value.a.b", ("truthy", ("value", "a", "b"), None, True)),
    ("value.ward == 'ICU' && value.n > `1`", ("equal", ("value", "ward"), "ICU", False)),
    ("value.n > `1` && value.ward == 'ICU'", ("gt", ("value", "n"), 1, False)),
    ("`1.5` <= value.n", ("gte", ("value", "n"), 1.5, True)),
    ("value.n > 'a'", None),
    ("value.n > `true`", None),
    ("contains(value.tags, 'x') && value.ward == 'ICU'", None),
    ("other.ward == 'ICU'", None),
    ("value.tags == `[1]`", None),
    ("value.ward == value.other", None),
])
def test_shapes_are_recognised_from_the_parsed_filter(expression, shape):
    found = shape_of(Rule("s", "src", "dst", expression, "dlq").compiled)
    assert (found and (found.kind, found.path, found.literal, found.whole)) == shape


def test_equality_keys_follow_jmespath_not_python():
    assert equality_key(1) == equality_key(1.0)
    assert equality_key(1) != equality_key(True)
    assert equality_key(0) != equality_key(False)
    assert equality_key("1") != equality_key(1)
    assert equality_key(None) != equality_key(False)


def test_the_value_is_decoded_once_and_only_when_a_filter_needs_it():
    calls = []

    def decode():
        calls.append(1)
        return {"ward": "ICU", "n": 2}

    header_only = SourceIndex([Rule("a", "src", "dst", None, "dlq"),
                               Rule("b", "src", "dst", "headers.source == 'lab'", "dlq"),
                               Rule("c", "src", "dst", "key", "dlq")])
    assert [o.rule.subscription_id for o in header_only.match(decode, {"source": "lab"}, "k")] == ["a", "b", "c"]
    assert calls == [] and header_only.needs_value is False
    mixed = SourceIndex([Rule(f"r{i}", "src", "dst", f, "dlq")
                         for i, f in enumerate(["value.ward == 'ICU'", "value.n > `1`", "value.ward"])])
    assert len(mixed.match(decode, {}, None)) == 3
    assert calls == [1]


def test_a_value_that_cannot_be_decoded_fails_the_rules_that_read_it_and_no_other():
    def undecodable():
        raise DecodeError("the value is not JSON")

    rules = [Rule("a", "src", "dst", None, "dlq"), Rule("b", "src", "dst", "headers.source == 'lab'", "dlq"),
             Rule("c", "src", "dst", "value.ward == 'ICU'", "dlq"), Rule("d", "src", "dst", "value.n > `1`", "dlq"),
             Rule("e", "src", "dst", "headers.source == 'lab' && value.n > `1`", "dlq"),
             Rule("f", "src", "dst", "headers.source == 'ward'", "dlq")]
    outcomes = SourceIndex(rules).match(undecodable, {"source": "lab"}, None)
    assert [(o.rule.subscription_id, o.error is None) for o in outcomes] == [
        ("a", True), ("b", True), ("c", False), ("d", False), ("e", False)]
    assert all(isinstance(o.error, DecodeError) for o in outcomes if o.error is not None)


def test_broken_rules_are_left_to_the_router():
    index = SourceIndex([Rule("a", "src", "dst", "value.ward ==", "dlq"), Rule("b", "src", "dst", None, "dlq")])
    assert [rule.subscription_id for _, rule in index.broken] == ["a"]
    assert [o.rule.subscription_id for o in index.match(lambda: {}, {}, None)] == ["b"]
