"""The aggregation services on Postgres: validation with field-level errors, access to the source, versions,
deletion, the change-request gate and the queued reconcile."""

import pytest

from onboarding.errors import Conflict, PermissionDenied, ValidationError
from onboarding.models import Aggregation, AuditEvent, ChangeRequest, Subscription
from onboarding.queue import Kind, _redis
from onboarding.services.aggregations import aggregation_create, aggregation_delete, aggregation_update
from tests.integration.aggregations.helpers import definition, with_value_schema

pytestmark = pytest.mark.django_db


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


def test_create_stores_milliseconds_and_queues_a_reconcile(alice, payments, payments_topic, cluster,
                                                           django_capture_on_commit_callbacks):
    source = with_value_schema(payments_topic())
    _redis().delete(Kind.AGGREGATIONS.mark(cluster.pk))
    with django_capture_on_commit_callbacks(execute=True):
        agg = aggregation_create(actor=alice, **definition(payments, source))
    assert (agg.size_ms, agg.grace_ms, agg.advance_ms, agg.gap_ms) == (3_600_000, 60_000, None, None)
    assert agg.definition_id == "payments.per-provider" and agg.version == 1 and agg.cluster == cluster
    assert agg.measures == [{"name": "claims", "op": "count"},
                            {"name": "amount_total", "op": "sum", "field": "value.amount"}]
    assert _redis().get(Kind.AGGREGATIONS.mark(cluster.pk)) is not None
    assert AuditEvent.objects.filter(action="aggregation.create", resource_id=str(agg.pk)).exists()


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"size": "0"}, "size", "greater than 0"),
    ({"size": "ten minutes"}, "size", "duration like"),
    ({"window_type": "hopping", "advance": "2h"}, "advance", "may not exceed"),
    ({"window_type": "session", "size": None}, "gap", "gap greater than 0"),
    ({"grace": "-1"}, "grace", "duration like"),
    ({"group_by": "value.provider"}, "group_by", "no field provider"),
    ({"group_by": "value.["}, "group_by", "column"),
    ({"time_source": "field", "time_field": "value.when"}, "time_field", "no field when"),
    ({"measures": [{"name": "n", "op": "count"}, {"name": "n", "op": "count"}]}, "measures", "unique"),
    ({"measures": [{"name": "1st", "op": "count"}]}, "measures", "identifier"),
    ({"measures": [{"name": "x", "op": "median", "field": "value.amount"}]}, "measures", "unknown op"),
    ({"measures": [{"name": "x", "op": "sum"}]}, "measures", "needs a field"),
    ({"measures": [{"name": "x", "op": "max", "field": "value.cost"}]}, "measures", "no field cost"),
    ({"output_topic": "clinical.stolen"}, "output_topic", "pattern"),
    ({"name": "Per Provider"}, "name", "lowercase"),
    ({"emit": "sometimes"}, "emit", "Choose one of"),
])
def test_each_mistake_is_refused_under_its_field(alice, payments, payments_topic, overrides, field, words):
    source = with_value_schema(payments_topic())
    with pytest.raises(ValidationError) as exc:
        aggregation_create(actor=alice, **definition(payments, source, **overrides))
    assert field in errors_of(exc), errors_of(exc)
    assert words in " ".join(errors_of(exc)[field])


def test_grace_may_not_exceed_the_source_retention(alice, payments, payments_topic):
    source = payments_topic(configs={"retention.ms": "3600000"})
    with pytest.raises(ValidationError) as exc:
        aggregation_create(actor=alice, **definition(payments, source, grace="2h"))
    assert errors_of(exc)["grace"] == ["The grace period may not exceed the source's retention (1h): late events "
                                       "would already be gone."]
    assert aggregation_create(actor=alice, **definition(payments, source, grace="1h")).grace_ms == 3_600_000


def test_a_source_without_schema_is_not_checked_for_fields(alice, payments, payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, payments_topic(), group_by="value.anything"))
    assert agg.group_by == "value.anything"


def test_an_outsider_cannot_aggregate_a_private_topic(alice, payments, clinical_topic):
    private = clinical_topic(visibility="private")
    with pytest.raises(ValidationError) as exc:
        aggregation_create(actor=alice, **definition(payments, private))
    assert errors_of(exc)["source"] == ["Choose a topic your team owns or holds an approved subscription to."]


def test_an_approved_subscription_lets_the_team_aggregate(alice, payments, clinical_topic, reader):
    public = clinical_topic()
    with pytest.raises(ValidationError) as exc:
        aggregation_create(actor=alice, **definition(payments, public))
    assert "source" in errors_of(exc)
    Subscription.objects.create(subscriber=payments, source=public, service_account=reader, reason="totals",
                                decision=Subscription.Decision.APPROVED)
    assert aggregation_create(actor=alice, **definition(payments, public)).source == public


def test_viewers_and_outsiders_may_not_define(vera, carol, payments, payments_topic):
    source = payments_topic()
    for actor in (vera, carol):
        with pytest.raises(PermissionDenied):
            aggregation_create(actor=actor, **definition(payments, source))


def test_a_result_shaping_change_is_a_new_version_a_description_is_not(alice, payments, payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, with_value_schema(payments_topic())))
    agg = aggregation_update(actor=alice, aggregation=agg, description="Claims per provider per hour")
    assert (agg.version, agg.generation) == (1, 2)
    agg = aggregation_update(actor=alice, aggregation=agg, size="30m", expected_generation=2)
    assert (agg.version, agg.generation, agg.size_ms, agg.status) == (2, 3, 1_800_000, "pending")
    agg = aggregation_update(actor=alice, aggregation=agg, start_from="latest")
    assert (agg.version, agg.generation) == (2, 4)
    unchanged = aggregation_update(actor=alice, aggregation=agg, size="1800000")
    assert (unchanged.version, unchanged.generation) == (2, 4)
    with pytest.raises(Conflict):
        aggregation_update(actor=alice, aggregation=agg, size="1h", expected_generation=3)


def test_update_errors_are_field_level_and_save_nothing(alice, payments, payments_topic):
    agg = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    with pytest.raises(ValidationError) as exc:
        aggregation_update(actor=alice, aggregation=agg, window_type="hopping", advance="3h")
    assert "advance" in errors_of(exc)
    agg.refresh_from_db()
    assert (agg.window_type, agg.generation) == ("tumbling", 1)
    with pytest.raises(ValidationError) as exc:
        aggregation_update(actor=alice, aggregation=agg, name="renamed")
    assert "name" in errors_of(exc)


def test_names_and_outputs_are_unique_while_live(alice, payments, payments_topic):
    source = payments_topic()
    first = aggregation_create(actor=alice, **definition(payments, source))
    with pytest.raises(ValidationError) as exc:
        aggregation_create(actor=alice, **definition(payments, source))
    assert set(errors_of(exc)) == {"name", "output_topic"}
    aggregation_delete(actor=alice, aggregation=first)
    first.refresh_from_db()
    assert first.status == "deleting" and first.wants_deletion
    with pytest.raises(ValidationError):
        aggregation_delete(actor=alice, aggregation=first)


def test_a_gated_cluster_opens_a_change_request_applied_on_approval(alice, payments, operator, payments_topic,
                                                                    cluster):
    from onboarding.changes.gate import change_policy_for
    from onboarding.changes.requests import change_request_approve

    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["aggregation.create", "aggregation.delete"]
    policy.save()
    opened = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    assert isinstance(opened, ChangeRequest)
    assert opened.plan["steps"][0]["summary"] == "Define aggregation payments.per-provider"
    applied = change_request_approve(actor=operator, change_request=opened, comment="", via="browser")
    assert applied.status == ChangeRequest.Status.APPLIED, applied.error
    from onboarding.models import Aggregation
    agg = Aggregation.objects.get(team__slug="payments", name="per-provider")
    assert agg.size_ms == 3_600_000


def test_a_uniqueness_race_lost_at_commit_is_a_field_error(alice, payments, payments_topic):
    """Two definitions saved at once both pass the checks; the constraint decides, in the checks' words."""
    from onboarding.models import Aggregation
    from onboarding.services.aggregations import _save

    first = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    twin = Aggregation(cluster=first.cluster, team=payments, name="other", source=first.source,
                       output_topic=first.output_topic, size_ms=60_000, measures=first.measures)
    with pytest.raises(ValidationError) as exc:
        _save(twin)
    assert errors_of(exc) == {"output_topic": ["Another aggregation already writes to this topic."]}
    twin.output_topic, twin.name = "payments.other", first.name
    with pytest.raises(ValidationError) as exc:
        _save(twin)
    assert errors_of(exc) == {"name": ["This team already has an aggregation with this name on this cluster."]}


def test_gated_changes_and_deletes_wait_then_apply_as_requested(alice, payments, operator, payments_topic, cluster):
    from onboarding.changes.gate import change_policy_for
    from onboarding.changes.requests import change_request_approve

    agg = aggregation_create(actor=alice, **definition(payments, payments_topic()))
    policy = change_policy_for(cluster)
    policy.operations_needing_approval = ["aggregation.update", "aggregation.delete"]
    policy.save()
    # Adding a measure keeps the output schema compatible (removing one is refused: test_outputs.py).
    measures = [*agg.measures, {"name": "n", "op": "count"}]
    opened = aggregation_update(actor=alice, aggregation=agg, size="2h", measures=measures)
    assert isinstance(opened, ChangeRequest) and opened.base_generation == 1
    agg.refresh_from_db()
    assert (agg.size_ms, agg.version) == (3_600_000, 1)
    applied = change_request_approve(actor=operator, change_request=opened, via="browser")
    assert applied.status == ChangeRequest.Status.APPLIED, applied.error
    agg.refresh_from_db()
    assert (agg.size_ms, agg.measures, agg.version) == (7_200_000, measures, 2)

    opened = aggregation_delete(actor=alice, aggregation=agg)
    assert isinstance(opened, ChangeRequest) and not Aggregation.objects.get(pk=agg.pk).wants_deletion
    change_request_approve(actor=operator, change_request=opened, via="browser")
    assert Aggregation.objects.get(pk=agg.pk).status == "deleting"


def test_revoking_the_subscription_stops_the_subscribers_aggregations_of_that_topic(alice, carol, payments,
                                                                                  clinical_topic, reader):
    from onboarding.services.subscriptions import subscription_revoke

    public = clinical_topic()
    sub = Subscription.objects.create(subscriber=payments, source=public, service_account=reader, reason="totals",
                                      decision=Subscription.Decision.APPROVED)
    agg = aggregation_create(actor=alice, **definition(payments, public))
    subscription_revoke(actor=carol, subscription=sub, comment="no longer", via="browser")
    agg.refresh_from_db()
    assert agg.status == "deleting" and agg.wants_deletion
    note = AuditEvent.objects.get(action="aggregation.delete", resource_id=str(agg.pk)).note
    assert note == f"Access to {public.name} ended: subscription #{sub.pk} was revoked."


def test_another_approved_subscription_keeps_the_aggregation(alice, carol, payments, cluster, clinical_topic,
                                                             reader):
    from onboarding.services.subscriptions import subscription_revoke
    from tests.integration.subscriptions.helpers import make_account

    public = clinical_topic()
    first, _ = (Subscription.objects.create(subscriber=payments, source=public, service_account=account,
                                            reason="totals", decision=Subscription.Decision.APPROVED)
                for account in (reader, make_account(cluster, payments, name="second")))
    agg = aggregation_create(actor=alice, **definition(payments, public))
    subscription_revoke(actor=alice, subscription=first, via="browser")
    agg.refresh_from_db()
    assert not agg.wants_deletion


def test_deleting_the_source_topic_stops_every_teams_aggregations_of_it(alice, carol, payments, clinical,
                                                                        clinical_topic, reader):
    from onboarding.services.topics import topic_delete

    public = clinical_topic()
    Subscription.objects.create(subscriber=payments, source=public, service_account=reader, reason="totals",
                                decision=Subscription.Decision.APPROVED)
    theirs = aggregation_create(actor=alice, **definition(payments, public))
    own = aggregation_create(actor=carol, **definition(clinical, public, output_topic="clinical.per-provider"))
    topic_delete(actor=carol, topic=public, confirm_name=public.name)
    for agg in (theirs, own):
        agg.refresh_from_db()
        assert agg.status == "deleting", agg
    notes = set(AuditEvent.objects.filter(action="aggregation.delete").values_list("note", flat=True))
    assert notes == {f"Its source topic {public.name} was deleted."}
