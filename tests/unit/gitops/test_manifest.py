"""Parsing, validating and rendering team manifests: errors name the exact path, output is stable."""

import json

import pytest
import yaml

from onboarding.gitops.manifest import ManifestError, load, ordered, render, split_options, validate

AVRO = '{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}'


def manifest(**changes):
    document = {
        "apiVersion": "portal/v1", "kind": "TeamManifest", "team": "payments",
        "topics": [{"cluster": "local", "name": "payments.orders", "partitions": 3, "replication_factor": 1,
                    "configs": {"retention.ms": "86400000"}, "schemas": {"value": {"schema": AVRO}}}],
        "service_accounts": [{"cluster": "local", "name": "reader"}],
        "subscriptions": [{"cluster": "local", "source": "clinical.visits", "service_account": "reader",
                           "reason": "Billing"}],
    }
    document.update(changes)
    return document


def errors_of(document) -> dict:
    with pytest.raises(ManifestError) as caught:
        validate(document)
    return caught.value.errors


def test_a_valid_manifest_has_every_optional_field_present_as_none_when_left_out():
    result = validate(manifest())
    topic = result["topics"][0]
    assert topic["description"] is None and topic["tags"] is None and topic["visibility"] is None
    assert topic["schemas"]["value"] == {"format": "AVRO", "compatibility": None, "schema": AVRO}
    assert result["subscriptions"][0]["mode"] is None


def test_a_misspelt_field_is_unknown_with_a_suggestion_at_its_path():
    topics = [{"cluster": "local", "name": f"payments.t{i}"} for i in range(2)]
    topics.append({"cluster": "local", "name": "payments.t2", "partitons": 3})
    assert errors_of(manifest(topics=topics)) == {
        "topics[2].partitons": ["unknown field; did you mean partitions?"]}


def test_wrong_types_and_choices_are_reported_per_field():
    errors = errors_of(manifest(topics=[{"cluster": "local", "name": "payments.x", "partitions": "three",
                                         "tags": "a,b", "visibility": "secret", "subscriptions_need_approval": 1,
                                         "configs": {"retention.ms": [1]},
                                         "schemas": {"value": {"format": "XML", "schema": AVRO}}}]))
    assert errors == {
        "topics[0].partitions": ["Must be a whole number."],
        "topics[0].tags": ["Must be a list of words."],
        "topics[0].visibility": ["Choose one of public, private."],
        "topics[0].subscriptions_need_approval": ["Must be true or false."],
        "topics[0].configs": ["Config values must be text, numbers or true/false."],
        "topics[0].schemas.value.format": ["Choose one of AVRO, JSON, PROTOBUF."],
    }


def test_a_boolean_is_not_a_number_of_partitions():
    assert errors_of(manifest(topics=[{"cluster": "local", "name": "payments.x", "partitions": True}])) == {
        "topics[0].partitions": ["Must be a whole number."]}


def test_kind_api_version_team_and_required_fields_are_checked():
    errors = errors_of(manifest(apiVersion="v2", kind="Team", team=None, service_accounts=[{"cluster": "local"}],
                                subscriptions="all"))
    assert errors == {"apiVersion": ["Use apiVersion: portal/v1."], "kind": ["Use kind: TeamManifest."],
                      "team": ["Name the team by its slug."],
                      "service_accounts[0].name": ["This field is required."], "subscriptions": ["Must be a list."]}


def test_unknown_schema_sides_and_top_level_fields_are_refused():
    errors = errors_of(manifest(topic=[], topics=[{"cluster": "local", "name": "payments.x",
                                                   "schemas": {"values": {"schema": AVRO}}}]))
    assert errors == {"topic": ["unknown field; did you mean topics?"],
                      "topics[0].schemas": ["Only key and value; not values."]}


def test_the_same_resource_twice_is_a_duplicate():
    account = {"cluster": "local", "name": "reader"}
    assert errors_of(manifest(service_accounts=[account, dict(account)])) == {
        "service_accounts[1]": ["Duplicate of service_accounts[0]."]}


def test_malformed_yaml_says_line_and_column():
    with pytest.raises(ManifestError) as caught:
        load("apiVersion: portal/v1\ntopics:\n  - name: [unclosed\n")
    [message] = caught.value.errors["non_field_errors"]
    assert message.startswith("Malformed YAML at line 4, column 1")


def test_malformed_json_says_line_and_column():
    with pytest.raises(ManifestError) as caught:
        load('{"team": "payments",\n "topics": [}', "application/json")
    assert caught.value.errors == {"non_field_errors": ["Malformed JSON at line 2, column 13: Expecting value."]}


@pytest.mark.parametrize(("text", "content_type"), [("[" * 100_000, "application/json"), ("[" * 100_000, "")])
def test_absurdly_deep_nesting_is_refused_not_crashed(text, content_type):
    with pytest.raises(ManifestError):
        load(text, content_type)


@pytest.mark.parametrize("text", ["", "   \n", "- a list\n", "just text"])
def test_a_manifest_must_be_a_mapping(text):
    with pytest.raises(ManifestError):
        load(text)


def test_request_options_are_split_from_the_manifest():
    options, document = split_options({**manifest(), "dry_run": True, "allow_deletes": "true"})
    assert options == {"dry_run": True, "allow_deletes": "true"}
    assert "dry_run" not in document and validate(document)


def test_render_sorts_lists_orders_fields_and_drops_left_out_fields():
    document = manifest(topics=[{"name": "payments.z", "cluster": "local", "configs": {"b": "2", "a": "1"}},
                                {"cluster": "local", "name": "payments.a", "description": "two\nlines\n"}])
    text = render(validate(document))
    loaded = yaml.safe_load(text)
    assert [t["name"] for t in loaded["topics"]] == ["payments.a", "payments.z"]
    assert list(loaded["topics"][1]["configs"]) == ["a", "b"]
    assert list(loaded["topics"][1]) == ["cluster", "name", "configs"]
    assert list(loaded) == ["apiVersion", "kind", "team", "topics", "service_accounts", "subscriptions"]
    assert "description: |\n" in text  # multi-line text as a readable block


def test_render_round_trips_and_is_byte_identical():
    text = render(validate(manifest()))
    again = render(validate(load(text)))
    assert again == text
    assert validate(load(text)) == validate(manifest())


def test_json_and_yaml_of_the_same_manifest_validate_alike():
    document = manifest()
    assert validate(load(json.dumps(document), "application/json")) == validate(load(render(validate(document))))
    assert ordered(validate(document))["topics"][0]["schemas"]["value"]["schema"] == AVRO
