"""Aggregations in the team manifest on Postgres: export, plan, apply through the services, idempotence,
errors by manifest path, and a manifest without the section leaving the team's aggregations alone."""

import pytest
import yaml

from onboarding.errors import ValidationError
from onboarding.gitops.service import manifest_apply, manifest_export, manifest_plan
from onboarding.models import Aggregation, AuditEvent
from onboarding.services.aggregations import aggregation_create
from tests.integration.aggregations.helpers import definition, with_value_schema

pytestmark = pytest.mark.django_db


def entry(source, **overrides) -> dict:
    values = {"cluster": "local", "name": "per-provider", "source": source.name, "window_type": "tumbling",
              "size": "1h", "grace": "1m", "group_by": "value.provider_id",
              "measures": [{"name": "claims", "op": "count"},
                           {"name": "amount_total", "op": "sum", "field": "value.amount"}],
              "output_topic": "payments.per-provider-hourly"}
    values.update(overrides)
    return values


def exported(team) -> dict:
    return yaml.safe_load(manifest_export(team=team))


def refusal(**kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        manifest_apply(**kwargs)
    return caught.value.message_dict


def test_export_writes_durations_as_text_and_plans_as_unchanged(alice, payments, payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, payments_topic(), window_type="hopping",
                                                       advance="900000"))
    document = exported(payments)
    assert document["aggregations"] == [{
        "cluster": "local", "name": "per-provider", "description": "", "source": agg.source.name,
        "filter": "value.amount > `100`", "group_by": "value.provider_id", "window_type": "hopping", "size": "1h",
        "advance": "15m", "grace": "1m", "time_source": "record",
        "measures": [{"name": "claims", "op": "count"},
                     {"name": "amount_total", "op": "sum", "field": "value.amount"}],
        "emit": "on_update", "late": "drop", "output_topic": "payments.per-provider-hourly",
        "start_from": "earliest"}]
    assert manifest_export(team=payments) == manifest_export(team=payments)
    plan = manifest_plan(actor=alice, team=payments, document=document).plan
    assert plan.summary()["unchanged"] == len(plan.actions) and plan.summary()["unchanged"] >= 2


def test_apply_creates_then_changes_nothing_then_a_new_window_is_a_new_version(alice, payments, payments_topic):
    source = with_value_schema(payments_topic())
    document = {**exported(payments), "aggregations": [entry(source)]}
    result = manifest_apply(actor=alice, team=payments, document=document)
    assert [(r["op"], r["kind"]) for r in result.results] == [("create", "aggregation")]
    agg = Aggregation.objects.get()
    assert (agg.size_ms, agg.grace_ms, agg.version) == (3_600_000, 60_000, 1)

    audits = AuditEvent.objects.count()
    same = {**document, "aggregations": [entry(source, size="60m", grace=60000)]}
    assert manifest_apply(actor=alice, team=payments, document=same).results == []
    assert AuditEvent.objects.count() == audits

    wider = {**document, "aggregations": [entry(source, size="2h")]}
    result = manifest_apply(actor=alice, team=payments, document=wider)
    assert result.results[0]["changes"] == {"size": {"old": "1h", "new": "2h"}}
    agg.refresh_from_db()
    assert (agg.size_ms, agg.version) == (7_200_000, 2)


def test_a_topic_and_its_aggregation_in_one_manifest(alice, payments, cluster, unique):
    name = f"payments.claims-{unique}"
    document = {**exported(payments), "topics": [{"cluster": "local", "name": name, "partitions": 1,
                                                  "replication_factor": 1}],
                "aggregations": [entry(type("T", (), {"name": name}), group_by="value.anything")]}
    result = manifest_apply(actor=alice, team=payments, document=document)
    assert [(r["op"], r["kind"]) for r in result.results] == [("create", "topic"), ("create", "aggregation")]
    assert Aggregation.objects.get().source.name == name


def test_a_manifest_without_the_section_keeps_aggregations_an_empty_one_deletes_them(alice, payments,
                                                                                     payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    document = exported(payments)
    without = {key: value for key, value in document.items() if key != "aggregations"}
    manifest_apply(actor=alice, team=payments, document=without, allow_deletes=True)
    agg.refresh_from_db()
    assert not agg.wants_deletion

    emptied = {**document, "aggregations": []}
    assert "aggregation" in refusal(actor=alice, team=payments, document=emptied)["allow_deletes"][0]
    manifest_apply(actor=alice, team=payments, document=emptied, allow_deletes=True)
    agg.refresh_from_db()
    assert agg.status == "deleting"


def test_errors_are_keyed_by_manifest_path(alice, payments, payments_topic, clinical_topic):
    source = with_value_schema(payments_topic())
    private = clinical_topic(visibility="private")
    document = {**exported(payments), "aggregations": [
        entry(source, window_type="hopping", advance="2h", group_by="value.nope"),
        entry(private, name="stolen", output_topic="payments.stolen"),
        entry(source, name="typo", output_topic="payments.typo", measures=[{"name": "n", "op": "median"}]),
    ]}
    errors = refusal(actor=alice, team=payments, document=document)
    assert errors == {"aggregations[2].measures[0].op": [
        "Choose one of count, sum, min, max, avg, count_distinct, first, last."]}
    document["aggregations"].pop()
    errors = refusal(actor=alice, team=payments, document=document)
    assert errors["aggregations[0].advance"] == ["The advance may not exceed the window size (windows would leave "
                                                 "gaps)."]
    assert "no field nope" in errors["aggregations[0].group_by"][0]
    assert errors["aggregations[1].source"] == ["No such topic."]
    assert not Aggregation.objects.exists()
