"""The manifest's JSON Schema: a valid Draft 2020-12 schema built from the shared value lists, and the checks
that ``validate`` keeps beside it (duplicates, whole numbers) and the way its errors are worded."""

import json

import pytest
import yaml
from jsonschema import Draft202012Validator, validators

from onboarding.choices import COMPATIBILITY_MODES, SCHEMA_FORMATS, SchemaFormat
from onboarding.gitops.manifest import ManifestError, render, validate
from onboarding.gitops.manifest_schema import (
    MANIFEST_SCHEMA,
    MODES,
    SCHEMA_ENTRY,
    SUBSCRIPTION,
    TOPIC,
    VISIBILITIES,
)
from onboarding.models import Subscription, Topic

AVRO = '{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}'


def manifest(**changes):
    document = {"apiVersion": "portal/v1", "kind": "TeamManifest", "team": "payments",
                "topics": [{"cluster": "local", "name": "payments.orders", "schemas": {"value": {"schema": AVRO}}}]}
    document.update(changes)
    return document


def errors_of(document) -> dict:
    with pytest.raises(ManifestError) as caught:
        validate(document)
    return caught.value.errors


def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(MANIFEST_SCHEMA)
    assert validators.validator_for(MANIFEST_SCHEMA) is Draft202012Validator
    assert json.loads(json.dumps(MANIFEST_SCHEMA)) == MANIFEST_SCHEMA  # plain JSON, ready to be served as is


def test_value_lists_come_from_onboarding_choices():
    properties = SCHEMA_ENTRY["properties"]
    assert properties["format"]["enum"] == [*SCHEMA_FORMATS, None]
    assert properties["format"]["default"] == SchemaFormat.AVRO
    assert properties["compatibility"]["enum"] == [*sorted(COMPATIBILITY_MODES), None]
    assert MANIFEST_SCHEMA["$defs"]["schema"] is SCHEMA_ENTRY


def test_visibility_and_mode_are_the_models_choices():
    assert list(VISIBILITIES) == Topic.Visibility.values
    assert TOPIC["properties"]["visibility"]["enum"] == [*Topic.Visibility.values, None]
    assert list(MODES) == Subscription.Mode.values
    assert SUBSCRIPTION["properties"]["mode"]["enum"] == [*Subscription.Mode.values, None]


def test_what_render_writes_is_valid_for_a_plain_draft_2020_12_validator():
    document = manifest(service_accounts=[{"cluster": "local", "name": "reader", "description": "Readers"}],
                        subscriptions=[{"cluster": "local", "source": "clinical.visits", "mode": "routed",
                                        "service_account": "reader", "destination": "payments.visits"}])
    assert list(Draft202012Validator(MANIFEST_SCHEMA).iter_errors(yaml.safe_load(render(validate(document))))) == []


def test_a_whole_number_is_not_written_with_a_fraction():
    """JSON Schema counts 3.0 as an integer; the manifest does not."""
    assert errors_of(manifest(topics=[{"cluster": "local", "name": "payments.x", "partitions": 3.0}])) == {
        "topics[0].partitions": ["Must be a whole number."]}


def test_the_same_resource_twice_with_a_list_for_a_name_is_refused_not_crashed():
    account = {"cluster": "local", "name": ["reader"]}
    assert errors_of(manifest(service_accounts=[account, dict(account)])) == {
        "service_accounts[0].name": ["Must be text."], "service_accounts[1].name": ["Must be text."]}


def test_a_blank_or_null_required_field_is_required_and_a_null_optional_field_is_left_out():
    errors = errors_of(manifest(topics=[{"cluster": " \t", "name": None, "description": None}]))
    assert errors == {"topics[0].cluster": ["This field is required."], "topics[0].name": ["This field is required."]}
    result = validate(manifest(topics=[{"cluster": "local", "name": "payments.x", "visibility": None}]))
    assert result["topics"][0]["visibility"] is None


def test_a_type_error_is_the_only_message_for_a_field():
    assert errors_of(manifest(topics=[{"cluster": "local", "name": "payments.x", "visibility": 3}])) == {
        "topics[0].visibility": ["Must be text."]}


def test_an_unknown_schema_side_hides_what_is_inside_the_schemas():
    errors = errors_of(manifest(topics=[{"cluster": "local", "name": "payments.x",
                                         "schemas": {"value": {"format": "XML"}, "values": {"schema": AVRO}}}]))
    assert errors == {"topics[0].schemas": ["Only key and value; not values."]}


def test_schema_entries_and_configs_are_checked_inside():
    errors = errors_of(manifest(topics=[{"cluster": "local", "name": "payments.x", "configs": ["a"],
                                         "schemas": {"key": None, "value": {"compatibility": "SOME", "shema": AVRO}}}]))
    assert errors == {
        "topics[0].configs": ["Must be a mapping of config names to values."],
        "topics[0].schemas.key": ["Must be a mapping of fields."],
        "topics[0].schemas.value.shema": ["unknown field; did you mean schema?"],
        "topics[0].schemas.value.compatibility": [
            "Choose one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE."],
        "topics[0].schemas.value.schema": ["This field is required."],
    }


def test_an_unknown_field_without_a_close_match_lists_the_fields():
    assert errors_of(manifest(service_accounts=[{"cluster": "local", "name": "reader", "zzz": 1}])) == {
        "service_accounts[0].zzz": ["unknown field; use cluster, name, description, quota."]}


def test_a_document_that_is_not_a_mapping_is_refused_as_a_whole():
    assert errors_of(["topics"]) == {
        "non_field_errors": ["The manifest must be a mapping with apiVersion, kind, team and resources."]}


def test_errors_are_listed_in_document_order():
    """Unknown fields first, then fields in schema order, schema sides as written, duplicates after the section."""
    orders = {"cluster": "local", "name": "payments.a"}
    errors = errors_of({"kind": "TeamManifest", "team": "payments", "extra": 1,
                        "topics": [{"name": 5, "cluster": "local", "nmae": 1}, orders, dict(orders),
                                   {"cluster": None, "name": "payments.b", "schemas": {"value": {}, "key": {}}}],
                        "service_accounts": "reader"})
    assert list(errors) == ["extra", "apiVersion", "topics[0].nmae", "topics[0].name", "topics[3].cluster",
                            "topics[3].schemas.value.schema", "topics[3].schemas.key.schema", "topics[2]",
                            "service_accounts"]
