"""The pure rules of a connector's config: secret references, inline secrets, topic keys and patterns."""

import pytest

from onboarding.connector_rules import (
    INLINE_SECRET,
    URI_SECRET,
    config_errors,
    placeholder,
    regex_within_prefix,
    rendered_config,
    secret_ref_errors,
    written_topic_keys,
)


@pytest.mark.parametrize(("reference", "expected"), [
    ("env:MONGO_URI", "${env:MONGO_URI}"),
    ("file:/etc/connect/secrets.properties:mongo.password", "${file:/etc/connect/secrets.properties:mongo.password}"),
])
def test_a_reference_becomes_the_placeholder_the_worker_resolves(reference, expected):
    assert placeholder(reference) == expected
    assert secret_ref_errors({"connection.uri": reference}) == {}


@pytest.mark.parametrize("reference", [
    "hunter2", "env:", "env:1BAD", "env:A B", "file:relative/path:key", "file:/path/without-key", "${env:X}", 42,
])
def test_a_reference_that_is_not_one_is_refused_by_key(reference):
    errors = secret_ref_errors({"connection.password": reference})
    assert list(errors) == ["secret_refs.connection.password"]


def test_references_must_be_an_object_and_may_not_name_the_portals_keys():
    assert list(secret_ref_errors(["env:X"])) == ["secret_refs"]
    assert list(secret_ref_errors({"name": "env:X"})) == ["secret_refs.name"]


@pytest.mark.parametrize(("key", "value"), [
    ("connection.password", "s3cr3t-Passw0rd"),
    ("aws.secret.access.key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("api.key", "AKIAIOSFODNN7EXAMPLE"),
    ("ssl.key.password", "changeit1"),
    ("sasl.token", "eyJhbGciOiJIUzI1NiJ9.e30.x"),
])
def test_an_inline_secret_under_a_secret_key_is_refused(key, value):
    assert config_errors({key: value}) == {f"config.{key}": [INLINE_SECRET]}


@pytest.mark.parametrize(("key", "value"), [
    ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
    ("key.converter.schemas.enable", "false"),
    ("key.ignore", True),
    ("connection.password", "${env:MONGO_PASSWORD}"),
    ("document.id.strategy.partial.key.projection.type", "allowlist"),
    ("topics", "payments.orders"),
    ("max.batch.size", 40),
])
def test_ordinary_values_pass(key, value):
    assert config_errors({key: value}) == {}


def test_a_password_in_a_connection_string_is_refused_whatever_the_key():
    assert config_errors({"connection.uri": "mongodb://app:hunter2@db:27017/"}) == {
        "config.connection.uri": [URI_SECRET]}
    assert config_errors({"connection.uri": "mongodb://app:${env:MONGO_PW}@db:27017/"}) == {}
    assert config_errors({"connection.uri": "mongodb://db:27017/"}) == {}


def test_the_portals_keys_and_nested_values_are_refused():
    errors = config_errors({"name": "x", "connector.class": "y", "transforms": {"a": 1}})
    assert set(errors) == {"config.name", "config.connector.class", "config.transforms"}
    assert list(config_errors("topics=a")) == ["config"]


@pytest.mark.parametrize(("regex", "inside"), [
    (r"payments\..*", True),
    (r"^payments\.orders-(eu|us)", True),
    (r"payments\..*|clinical\..*", False),
    (r".*", False),
    (r"payments.*", False),   # an unescaped prefix also matches payments-x and paymentsx
    (r"clinical\..*", False),
])
def test_a_topic_pattern_must_stay_within_the_teams_prefix(regex, inside):
    assert regex_within_prefix(regex, "payments.") is inside


def test_keys_that_name_written_topics():
    config = {"topics": "a", "topic.prefix": "payments.cdc", "errors.deadletterqueue.topic.name": "payments.dlq",
              "topic.creation.default.partitions": "3", "database": "x"}
    assert written_topic_keys(config) == {"topic.prefix": "payments.cdc",
                                          "errors.deadletterqueue.topic.name": "payments.dlq"}


def test_the_rendered_config_has_strings_placeholders_name_and_class():
    assert rendered_config(name="payments.sink", connector_class="C", config={"tasks.max": 1, "x": True},
                           secret_refs={"connection.uri": "env:MONGO"}) == {
        "tasks.max": "1", "x": "true", "connection.uri": "${env:MONGO}", "connector.class": "C",
        "name": "payments.sink"}
