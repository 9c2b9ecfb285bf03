"""Topic naming and config rules: Kafka's own limits, then the cluster's policy."""

from types import SimpleNamespace

import pytest

from onboarding.policies import (
    DEFAULT_CONFIG_RULES,
    check_configs,
    check_name,
    check_partitions,
    check_policy_definition,
    check_replication_factor,
    describe_rule,
)

PATTERN = r"^{team}\.[a-z0-9][a-z0-9._-]*$"


@pytest.mark.parametrize("name", ["payments.orders", "payments.orders.v1", "payments.card_auth-events"])
def test_names_in_the_team_pattern_pass(name):
    assert check_name(name, team_slug="payments", pattern=PATTERN) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a topic name."),
        ("payments.orders!", "may only contain letters, digits"),
        ("payments.ordérs", "found 'é'"),
        ("payments." + "x" * 250, "at most 249 characters"),
        ("..", "not valid topic names"),
        ("__payments", "reserved for Kafka's internal topics"),
        ("clinical.orders", "must match this cluster's pattern"),
        ("payments.Orders", "must match this cluster's pattern"),
    ],
)
def test_illegal_or_foreign_names_are_refused_with_a_reason(name, message):
    errors = check_name(name, team_slug="payments", pattern=PATTERN)
    assert len(errors) == 1 and message in errors[0]


def test_a_team_slug_is_matched_literally_not_as_a_regex():
    assert check_name("paymentsXorders", team_slug="payments", pattern=r"^{team}\..+$")
    assert check_name("a.b.orders", team_slug="a.b", pattern=r"^{team}\..+$") == []
    assert check_name("aXb.orders", team_slug="a.b", pattern=r"^{team}\..+$")


def test_partitions_stay_in_range_and_never_shrink():
    assert check_partitions(6, minimum=1, maximum=12) == []
    assert "between 1 and 12" in check_partitions(13, minimum=1, maximum=12)[0]
    assert "never shrink" in check_partitions(3, minimum=1, maximum=12, current=6)[0]
    assert check_partitions(8, minimum=1, maximum=12, current=6) == []


def test_replication_factor_is_one_of_the_allowed_and_fixed_once_created():
    assert check_replication_factor(3, allowed=[1, 3]) == []
    assert "one of 1, 3" in check_replication_factor(2, allowed=[3, 1])[0]
    assert "cannot change in place" in check_replication_factor(1, allowed=[1, 3], current=3)[0]


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ({"unclean.leader.election.enable": "true"}, "cannot be set by teams on this cluster"),
        ({"retention.ms": "1000"}, "retention.ms: must be at least 60 000"),
        ({"retention.ms": 99_999_999_999_999}, "must be at most"),
        ({"retention.ms": "a week"}, "must be a whole number; got 'a week'"),
        ({"cleanup.policy": "archive"}, "must be one of delete, compact, compact,delete"),
        ({"retention.ms": {"days": 7}}, "must be a string or a number"),
        ({"min.insync.replicas": "3"}, "must not exceed the replication factor (1)"),
    ],
)
def test_configs_outside_the_policy_are_refused_with_the_key(configs, message):
    errors = check_configs(configs, rules=DEFAULT_CONFIG_RULES, replication_factor=1)
    assert any(message in e for e in errors), errors


def test_valid_configs_pass_and_numbers_may_be_json_numbers():
    assert check_configs({"retention.ms": 604_800_000, "cleanup.policy": "compact"},
                         rules=DEFAULT_CONFIG_RULES, replication_factor=3) == []


def test_configs_must_be_an_object():
    assert check_configs(["retention.ms"], rules=DEFAULT_CONFIG_RULES) == [
        "Configs must be an object of config names to values."]


def test_rules_are_described_for_the_form():
    assert describe_rule({"choices": ["a", "b"]}) == "one of a, b"
    assert describe_rule({"min": 1, "max": 5}) == "1 to 5"


def _policy(**overrides):
    values = dict(name_pattern=PATTERN, min_partitions=1, max_partitions=12, default_partitions=3,
                  allowed_replication_factors=[1, 3], default_replication_factor=1,
                  config_rules=DEFAULT_CONFIG_RULES, default_configs={"retention.ms": "604800000"})
    values.update(overrides)
    return SimpleNamespace(**values)


def test_a_sound_policy_passes():
    assert check_policy_definition(_policy()) == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name_pattern": r"^orders\..*$"}, "name_pattern"),
        ({"name_pattern": r"^{team}\.(unclosed$"}, "name_pattern"),
        ({"min_partitions": 20}, "max_partitions"),
        ({"default_partitions": 50}, "default_partitions"),
        ({"default_replication_factor": 2}, "default_replication_factor"),
        ({"config_rules": {"retention.ms": {"between": [1, 2]}}}, "config_rules"),
        ({"default_configs": {"retention.ms": "5"}}, "default_configs"),
    ],
)
def test_a_policy_no_topic_could_satisfy_is_refused(overrides, field):
    assert field in check_policy_definition(_policy(**overrides))
