"""The engine's view of an aggregation without I/O: the definitions-table row of docs/aggregations.md, the diff
against the table, the output value's JSON Schema and the tags its fields inherit; the engine principal's ACLs."""

import json

import jsonschema
import pytest

from onboarding.platform.types import AclSpec
from onboarding.reconcile import aggregations_plan as plan
from onboarding.reconcile import aggregations_status_plan as status_plan
from onboarding.reconcile.aggregator_acls import DefinitionTopics, planned

CLAIMS = plan.Spec(
    id="claims.per-provider-hourly", source_topic="claims.submitted", output_topic="claims.per-provider-hourly",
    filter="value.amount > `100`", group_by="value.provider_id", window_type="tumbling", size_ms=3_600_000,
    grace_ms=60_000, measures=({"name": "claims", "op": "count"},
                               {"name": "amount_total", "op": "sum", "field": "value.amount"}))


def test_the_table_row_is_the_contracts_example():
    row = plan.table_row(CLAIMS, version=3, output_schema_id=42, prefix="portal-agg.")
    assert row == {
        "format": 1, "id": "claims.per-provider-hourly", "version": 3,
        "application_id": "portal-agg.claims.per-provider-hourly.v3", "source_topic": "claims.submitted",
        "output_topic": "claims.per-provider-hourly", "dead_letter_topic": "claims.per-provider-hourly.late",
        "filter": "value.amount > `100`", "group_by": "value.provider_id",
        "window": {"type": "tumbling", "size_ms": 3600000, "advance_ms": None, "gap_ms": None, "grace_ms": 60000},
        "time": {"source": "record"},
        "measures": [{"name": "claims", "op": "count"}, {"name": "amount_total", "op": "sum", "field": "value.amount"}],
        "emit": "on_update", "late": "drop", "start_from": "earliest", "output_schema_id": 42}
    assert list(row)[:4] == ["format", "id", "version", "application_id"]
    assert json.loads(plan.encode(row)) == row


def test_empty_expressions_are_null_and_a_field_time_names_its_field():
    spec = plan.Spec(id="t.a", source_topic="t.s", output_topic="t.o", time_source="field", time_field="value.ts",
                     window_type="session", gap_ms=5000, measures=({"name": "n", "op": "count", "field": ""},))
    body = plan.definition_body(spec)
    assert body["filter"] is None and body["group_by"] is None
    assert body["time"] == {"source": "field", "field": "value.ts"}
    assert body["measures"] == [{"name": "n", "op": "count"}]
    assert "version" not in body and "application_id" not in body and "output_schema_id" not in body


def test_diff_writes_changed_rows_only_and_tombstones_what_no_definition_wants():
    same = plan.encode({"id": "a.x", "version": 1})
    observed = {"a.x": b'{"version": 1, "id": "a.x"}', "a.old": same, "a.waiting": same, "a.bad": b"{"}
    wanted = {"a.x": same, "a.new": plan.encode({"id": "a.new"}), "a.bad": plan.encode({"id": "a.bad"})}
    upserts, tombstones = plan.diff(wanted, observed, keep={"a.waiting"})
    assert set(upserts) == {"a.new", "a.bad"}  # a.x decodes to the same value: left alone
    assert tombstones == ["a.old"]


def test_output_schema_has_the_window_and_one_typed_property_per_measure():
    spec = plan.Spec(id="t.a", source_topic="t.s", output_topic="t.o", size_ms=1000, measures=(
        {"name": "n", "op": "count"}, {"name": "d", "op": "count_distinct", "field": "value.u"},
        {"name": "s", "op": "sum", "field": "value.x"}, {"name": "lo", "op": "min", "field": "value.x"},
        {"name": "hi", "op": "max", "field": "value.x"}, {"name": "mean", "op": "avg", "field": "value.x"},
        {"name": "f", "op": "first", "field": "value.who"}, {"name": "l", "op": "last", "field": "value.who"}))
    schema = plan.output_schema(spec)
    jsonschema.Draft7Validator.check_schema(schema)
    assert list(schema["properties"]) == ["group", "window_start", "window_end", "n", "d", "s", "lo", "hi", "mean",
                                          "f", "l"]
    assert schema["required"] == ["group", "window_start", "window_end"]
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    good = {"group": "p1", "window_start": "2026-12-06T10:00:00.000Z", "window_end": "2026-12-06T11:00:00.000Z",
            "n": 3, "d": 2, "s": 10.5, "lo": 1, "hi": None, "mean": None, "f": {"any": "json"}, "l": "x"}
    assert list(validator.iter_errors(good)) == []
    for bad in ({**good, "n": 1.5}, {**good, "d": -1}, {**good, "s": "10"}, {**good, "extra": 1},
                {k: v for k, v in good.items() if k != "window_end"}):
        assert list(validator.iter_errors(bad)), bad
    assert plan.schema_text(schema) == plan.schema_text(plan.output_schema(spec))


@pytest.mark.parametrize(("expression", "fields"), [
    ("value.amount", {("value", "amount")}),
    ("value.patient.name", {("value", "patient.name")}),
    ("value.items[*].sku", {("value", "items[].sku")}),
    ("value.items[].sku", {("value", "items[].sku")}),
    ("join('-', [value.a, key])", {("value", "a"), ("key", "")}),
    ('upper(value."ssn")', {("value", "ssn")}),
    ('value.n > `"value.hidden"`', {("value", "n")}),
    ("headers.source", set()),
    ("", set()),
])
def test_expression_fields(expression, fields):
    assert plan.expression_fields(expression) == fields


def test_output_fields_inherit_the_tags_of_the_fields_they_are_computed_from():
    spec = plan.Spec(id="t.a", source_topic="t.s", output_topic="t.o", size_ms=1000, group_by="value.patient.id",
                     filter="value.ssn != null", measures=(
                         {"name": "n", "op": "count"}, {"name": "people", "op": "count_distinct", "field": "value.ssn"},
                         {"name": "cost", "op": "sum", "field": "value.cost"},
                         {"name": "last_name", "op": "last", "field": "value.patient.name"},
                         {"name": "visits", "op": "first", "field": "value.visit"},
                         {"name": "plain", "op": "max", "field": "value.amount"}))
    tags = {"value": {"patient": "phi", "ssn": "pii", "cost": "confidential", "visit.code": "secret"}, "key": {}}
    assert plan.output_tags(spec, tags) == {
        "group": "phi",  # inside the tagged record
        "cost": "confidential", "last_name": "phi",
        "visits": "secret",  # a whole record passes its tagged part on
    }  # counts carry no value; the filter passes none through; an untagged field stays clear


def test_the_group_of_the_record_key_inherits_key_tags_and_the_strongest_tag_wins():
    spec = plan.Spec(id="t.a", source_topic="t.s", output_topic="t.o", size_ms=1000,
                     measures=({"name": "x", "op": "avg", "field": "[value.a, value.b] | max(@)"},))
    tags = plan.output_tags(spec, {"key": {"member_id": "pii"}, "value": {"a": "confidential", "b": "secret"}})
    assert tags == {"group": "pii", "x": "secret"}
    assert plan.output_masks(tags) == {"key": {"": "pii"}, "value": {"group": "pii", "x": "secret"}}
    schema = plan.output_schema(spec, tags=tags)
    assert schema["properties"]["group"]["confluent:tags"] == ["PII"]
    assert schema["properties"]["x"]["confluent:tags"] == ["SECRET"]
    assert "confluent:tags" not in schema["properties"]["window_start"]
    assert plan.output_tags(spec, {}) == {}


def test_each_tagged_output_field_names_the_source_fields_it_comes_from():
    spec = plan.Spec(id="t.a", source_topic="t.s", output_topic="t.o", size_ms=1000, group_by="value.patient.id",
                     measures=({"name": "n", "op": "count"},
                               {"name": "ids", "op": "count_distinct", "field": "value.patient.id"},
                               {"name": "worst", "op": "max", "field": "[value.a, value.b] | max(@)"}))
    origins = plan.output_tag_origins(spec, {"value": {"patient.id": "phi", "a": "pii", "b": "secret"}})
    assert origins == {"group": ("phi", ["value.patient.id"]), "worst": ("secret", ["value.a", "value.b"])}
    keyed = plan.Spec(id="t.a", source_topic="t.s", output_topic="t.o", size_ms=1000,
                      measures=({"name": "n", "op": "count"},))
    assert plan.output_tag_origins(keyed, {"key": {"": "pii"}}) == {"group": ("pii", ["key"])}


ENGINE = "User:portal-aggregator"


def acl(resource_type, name, pattern, operation) -> AclSpec:
    return AclSpec(resource_type, name, pattern, ENGINE, operation)


def test_engine_acls_are_exactly_what_the_definitions_need():
    acls = planned(ENGINE, [DefinitionTopics("claims.submitted", "claims.hourly", "claims.hourly.late"),
                            DefinitionTopics("claims.submitted", "claims.daily", "claims.daily.late")],
                   definitions_topic="_portal.aggregations", status_topic="_portal.aggregations-status",
                   application_prefix="portal-agg.")
    both = lambda name, op: {acl("TOPIC", name, "LITERAL", op), acl("TOPIC", name, "LITERAL", "DESCRIBE")}  # noqa: E731
    expected = (both("_portal.aggregations", "READ") | both("_portal.aggregations-status", "READ")
                | both("_portal.aggregations-status", "WRITE") | both("claims.submitted", "READ")
                | both("claims.hourly", "WRITE") | both("claims.hourly.late", "WRITE")
                | both("claims.daily", "WRITE") | both("claims.daily.late", "WRITE")
                | {acl(kind, "portal-agg.", "PREFIXED", "ALL") for kind in ("TOPIC", "GROUP", "TRANSACTIONAL_ID")})
    assert acls == expected
    no_definitions = planned(ENGINE, [], definitions_topic="_portal.aggregations",
                             status_topic="_portal.aggregations-status", application_prefix="")
    assert all(spec.name.startswith("_portal.aggregations") for spec in no_definitions)


NOW = 1_800_000_000_000


def instance(name="i1", version=2, state="RUNNING", error=None, age_ms=0, records_in=1, lag=None):
    return status_plan.InstanceRow(id="t.a", instance=name, version=version, state=state, error=error,
                                   updated_ms=NOW - age_ms, metrics={"records_in": records_in, "lag": lag})


def judge(*rows, behind_since_ms=None, grace_ms=60_000):
    return status_plan.verdict(rows, version=2, now_ms=NOW, behind_since_ms=behind_since_ms, grace_ms=grace_ms)


def test_status_rows_are_parsed_by_definition_and_unreadable_ones_skipped():
    rows = status_plan.parse({"t.a@i1": plan.encode({"id": "t.a", "version": 2, "instance": "i1", "state": "RUNNING",
                                                     "error": None, "updated_ms": NOW, "metrics": {"lag": 3}}),
                              "t.a@i2": b"not json", "t.b@i1": plan.encode({"id": "t.b"})})
    assert list(rows) == ["t.a"] and rows["t.a"][0].metrics["lag"] == 3


def test_ready_when_every_live_instance_runs_the_current_version():
    verdict = judge(instance("i1", records_in=4, lag=1), instance("i2", records_in=6, lag=2),
                    instance("dead", state="ERROR", age_ms=61_000))
    assert verdict.state == status_plan.READY
    assert verdict.metrics["records_in"] == 10 and verdict.metrics["lag"] == 3
    assert [row.instance for row in verdict.instances] == ["i1", "i2"]


def test_an_error_of_the_current_version_fails_it_with_the_error():
    verdict = judge(instance("i1"), instance("i2", state="ERROR", error="bad record"))
    assert (verdict.state, verdict.reason) == (status_plan.FAILED, "i2: bad record")
    assert judge(instance("i1", version=1, state="ERROR")).state != status_plan.FAILED  # an old version's error


@pytest.mark.parametrize("rows", [(), (instance(version=1),), (instance(), instance("i2", version=1))])
def test_behind_waits_for_the_grace_then_drifts(rows):
    assert judge(*rows).state == status_plan.WAITING
    assert judge(*rows, behind_since_ms=NOW - 60_000).state == status_plan.WAITING
    assert judge(*rows, behind_since_ms=NOW - 60_001).state == status_plan.DRIFTED


def test_a_rebalance_of_the_current_version_is_waiting_never_drifted():
    assert judge(instance(state="REBALANCING"), behind_since_ms=0).state == status_plan.WAITING
