"""The mapping and code table services on real rows: what a save checks and refuses (per rule and per path),
versions, the mapper's table row, four eyes on canonical schema changes, gating, promotion and classification."""

import copy

import pytest

from onboarding.changes.gate import change_policy_for
from onboarding.changes.requests import change_request_approve
from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, Mapping, SensitiveField
from onboarding.selectors.mappings import live_mapping_versions
from onboarding.services.code_tables import code_table_delete, code_table_update
from onboarding.services.mapping_table import mapping_table_row
from onboarding.services.mappings import mapping_create, mapping_delete, mapping_promote, mapping_update
from onboarding.services.schemas import schema_version_submit
from tests.integration.mappings.helpers import ADMISSION, EVENT, PATIENT, RULES, value_schema
from tests.integration.subscriptions.helpers import make_topic

pytestmark = [pytest.mark.django_db]


def declare(carol, clinical, admissions, canonical, rules=None, **extra):
    return mapping_create(actor=carol, team=clinical, name="admissions-to-patient", source_topic=admissions,
                          canonical_topic=canonical, rules=RULES if rules is None else rules, **extra)


def refusal(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_a_checked_mapping_is_saved_as_version_one_and_becomes_the_mappers_row(
        carol, clinical, admissions, canonical, gender_table, cluster):
    mapping = declare(carol, clinical, admissions, canonical)
    assert mapping.status == "pending" and mapping.current_version.number == 1
    assert mapping.current_version.coverage["missing"] == []
    assert sorted(mapping.current_version.coverage["required"]) == ["birth_date", "gender", "id"]
    row = mapping_table_row(mapping.current_version)
    assert row["id"] == "clinical.admissions-to-patient" and row["version"] == 1
    assert (row["source_topic"], row["target_topic"]) == ("clinical.admissions", "std.patient")
    assert (row["source_subject"], row["target_subject"]) == ("clinical.admissions-value", "std.patient-value")
    assert row["target_schema_id"] == 4242 and row["dlq_topic"] == "std.patient.dlq"
    assert row["code_tables"] == {"hl7-gender": {"version": 1, "entries": {"M": "male", "F": "female", "O": "other"},
                                                 "default": "unknown"}}
    # the table's default reaches the mapper inside the rule, so the mapper needs no table logic
    assert row["rules"][1]["args"] == {"table": "hl7-gender", "default": "unknown"}
    assert live_mapping_versions(cluster) == [mapping.current_version]
    assert AuditEvent.objects.filter(action="mapping.create", resource_id=str(mapping.pk)).exists()


def test_type_errors_are_refused_per_rule_and_path(carol, clinical, admissions, canonical, gender_table):
    rules = copy.deepcopy(RULES)
    rules[3] = {"target": "weight_kg", "sources": ["sex"], "fn": "unit", "args": {"from": "lb", "to": "kg"}}
    rules[0]["sources"] = ["patient_id"]
    errors = refusal(lambda: declare(carol, clinical, admissions, canonical, rules=rules))
    assert errors["rules[3].sources[0]"] == ["unit needs a float or int source; sex is string"]
    assert errors["rules[0].sources[0]"][0].startswith("no field patient_id in the source schema")
    assert not Mapping.objects.exists()


def test_an_unmapped_required_field_is_refused(carol, clinical, admissions, canonical, gender_table):
    errors = refusal(lambda: declare(carol, clinical, admissions, canonical, rules=RULES[:2] + RULES[3:]))
    assert errors == {"targets.birth_date": ["required by the canonical schema, and no rule fills it"]}


def test_a_code_table_nobody_has_is_named_and_so_are_values_that_are_no_symbols(
        carol, clinical, admissions, canonical, gender_table):
    rules = copy.deepcopy(RULES)
    rules[1]["args"]["table"] = "gender-codes"
    assert refusal(lambda: declare(carol, clinical, admissions, canonical, rules=rules))["rules[1].args.table"] == [
        "no code table 'gender-codes'; known: none"]
    code_table_update(actor=carol, table=gender_table, entries={"M": "man", "F": "female"})
    errors = refusal(lambda: declare(carol, clinical, admissions, canonical))
    assert errors["rules[1].args.table"] == ["gives values that are not symbols of gender: man"]


def test_only_canonical_topics_on_the_sources_cluster_are_targets(carol, clinical, admissions, cluster,
                                                                    gender_table):
    plain = make_topic(carol, cluster, clinical, name="clinical.patients")
    value_schema(plain, PATIENT)
    errors = refusal(lambda: declare(carol, clinical, admissions, plain))
    assert errors["canonical_topic"] == ["clinical.patients is not a canonical topic; mappings write only into "
                                         "the platform's standards."]


def test_a_team_maps_only_topics_it_may_read(alice, payments, admissions, canonical, gender_table):
    errors = refusal(lambda: mapping_create(actor=alice, team=payments, name="theirs", source_topic=admissions,
                                            canonical_topic=canonical, rules=RULES))
    assert "payments may map only its own topics" in errors["source_topic"][0]
    with pytest.raises(PermissionDenied):
        mapping_create(actor=alice, team=admissions.team, name="x", source_topic=admissions,
                       canonical_topic=canonical, rules=RULES)


def test_every_save_is_a_new_version_and_the_pinned_table_version_stays(
        carol, clinical, admissions, canonical, gender_table, cluster):
    mapping = declare(carol, clinical, admissions, canonical)
    code_table_update(actor=carol, table=gender_table, entries={"M": "male", "F": "female", "X": "other"})
    assert mapping_table_row(mapping.current_version)["code_tables"]["hl7-gender"]["version"] == 1
    rules = copy.deepcopy(RULES)
    rules[4] = {"target": "national_id", "sources": ["ssn"], "fn": "default", "args": {"value": "none"}}
    mapping = mapping_update(actor=carol, mapping=mapping, rules=rules, note="ssn may be missing",
                             expected_generation=mapping.generation)
    assert [v.number for v in mapping.versions.order_by("number")] == [1, 2]
    row = mapping_table_row(mapping.current_version)
    assert row["version"] == 2 and row["code_tables"]["hl7-gender"]["version"] == 2
    assert row["rules"][4]["fn"] == "default" and live_mapping_versions(cluster) == [mapping.current_version]
    assert mapping.generation == 2 and mapping.status == "pending"


def test_a_deleted_mapping_leaves_the_live_versions_and_keeps_its_code_table_in_use(
        carol, clinical, admissions, canonical, gender_table, cluster):
    mapping = declare(carol, clinical, admissions, canonical)
    assert "admissions-to-patient" in refusal(lambda: code_table_delete(actor=carol, table=gender_table))["__all__"][0]
    mapping_delete(actor=carol, mapping=mapping)
    assert live_mapping_versions(cluster) == []
    assert code_table_delete(actor=carol, table=gender_table).deleted_at is not None


def test_code_table_content_is_refused_per_code(carol, gender_table):
    errors = refusal(lambda: code_table_update(actor=carol, table=gender_table, entries={"M": {"x": 1}, " ": "y"}))
    assert errors == {"entries.M": ["A value is a string, a number or true/false."],
                      "entries": ["Codes are 1 to 200 characters; ' ' is not."]}


def test_a_canonical_schema_change_waits_for_someone_other_than_its_author(gina, gil, canonical):
    v2 = copy.deepcopy(PATIENT)
    v2["fields"].append({"name": "deceased", "type": "boolean", "default": False})
    opened = schema_version_submit(actor=gina, topic=canonical, side="value", fmt="AVRO",
                                   text=__import__("json").dumps(v2))
    assert isinstance(opened, ChangeRequest) and opened.status == "pending"
    assert canonical.schemas.get().versions.count() == 1
    with pytest.raises((PermissionDenied, ValidationError)):
        change_request_approve(actor=gina, change_request=opened, via="browser")
    applied = change_request_approve(actor=gil, change_request=opened, via="browser")
    assert applied.status == ChangeRequest.Status.APPLIED, applied.error
    assert canonical.schemas.get().versions.count() == 2


def test_a_plain_topics_schema_change_is_not_held(carol, admissions):
    v2 = copy.deepcopy(ADMISSION)
    v2["fields"].append({"name": "ward", "type": ["null", "string"], "default": None})
    version = schema_version_submit(actor=carol, topic=admissions, side="value", fmt="AVRO",
                                    text=__import__("json").dumps(v2))
    assert not isinstance(version, ChangeRequest)


def test_gated_mapping_changes_wait_for_approval(carol, clinical, admissions, canonical, gender_table, cluster,
                                                 operator):
    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["mapping.create", "mapping.update"]
    policy.save()
    opened = declare(carol, clinical, admissions, canonical)
    assert isinstance(opened, ChangeRequest) and not Mapping.objects.exists()
    assert opened.plan["steps"][0]["summary"] == "Declare mapping clinical.admissions-to-patient"
    assert change_request_approve(actor=operator, change_request=opened, via="browser").status == "applied"
    mapping = Mapping.objects.get()
    assert mapping.current_version.number == 1


def test_promotion_checks_the_rules_again_on_the_next_cluster(carol, gina, clinical, governance, admissions,
                                                              canonical, gender_table, prod_cluster):
    mapping = declare(carol, clinical, admissions, canonical)
    errors = refusal(lambda: mapping_promote(actor=carol, mapping=mapping, cluster=prod_cluster))
    assert errors["source_topic"] == ["local-prod has no topic clinical.admissions; promote the topic first."]
    prod_source = make_topic(carol, prod_cluster, clinical, name="clinical.admissions")
    value_schema(prod_source, ADMISSION)
    prod_canonical = make_topic(gina, prod_cluster, governance, name="std.patient")
    value_schema(prod_canonical, PATIENT, registry_id=77)
    errors = refusal(lambda: mapping_promote(actor=carol, mapping=mapping, cluster=prod_cluster))
    assert errors["canonical_topic"][0].startswith("std.patient is not a canonical topic")
    from onboarding.services.mappings import canonical_topic_mark
    canonical_topic_mark(actor=gina, topic=prod_canonical)
    promoted = mapping_promote(actor=carol, mapping=mapping, cluster=prod_cluster)
    assert promoted.cluster == prod_cluster and promoted.promoted_from == mapping
    assert mapping_table_row(promoted.current_version)["target_schema_id"] == 77
    assert mapping_promote(actor=carol, mapping=mapping, cluster=prod_cluster).current_version.number == 2


def test_a_tagged_source_field_tags_the_canonical_field_it_feeds(carol, clinical, admissions, canonical,
                                                                 gender_table):
    SensitiveField.objects.create(schema=admissions.schemas.get(), path="ssn", classification="pii")
    SensitiveField.objects.create(schema=admissions.schemas.get(), path="dob", classification="phi")
    declare(carol, clinical, admissions, canonical)
    tags = dict(SensitiveField.objects.filter(schema=canonical.schemas.get()).values_list("path", "classification"))
    assert tags == {"national_id": "pii", "birth_date": "phi"}


def test_the_sample_event_maps_as_the_preview_shows(carol, clinical, admissions, canonical, gender_table):
    from onboarding.services.mappings_check import mapping_preview
    answer = mapping_preview(actor=carol, team=clinical, source_topic=admissions, canonical_topic=canonical,
                             rules=RULES, events=[EVENT, {**EVENT, "sex": "?"}, {**EVENT, "dob": "1980"}])
    assert answer["errors"] == {}
    first, unknown_code, bad_date = answer["results"]
    assert first["output"] == {"id": "p-1", "gender": "female", "birth_date": 3653, "weight_kg": 68.0,
                               "national_id": "123-45-6789"}
    assert first["ok"] and first["provenance"]["gender"] == {"rule": 1, "fn": "code", "sources": ["sex"]}
    assert unknown_code["output"]["gender"] == "unknown"  # the table's default
    assert bad_date["error"]["map.error.rule"] == "2" and not bad_date["ok"]
