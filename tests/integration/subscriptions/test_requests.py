"""What a subscription request must name, and the routed destination and filter rules."""

import pytest

from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ResourceStatus, Subscription, Topic
from onboarding.services.subscriptions import (
    subscription_filter_test,
    subscription_request,
    subscription_update_filter,
)
from tests.integration.subscriptions.helpers import make_account, make_topic

pytestmark = pytest.mark.django_db
VIA = AuditEvent.Via.API
ROUTED = Subscription.Mode.ROUTED


def ask(actor, source, account, **fields):
    fields.setdefault("mode", Subscription.Mode.DIRECT)
    fields.setdefault("reason", "Billing needs the admissions.")
    return subscription_request(actor=actor, subscriber=account.team, source=source, service_account=account,
                                via=VIA, **fields)


def errors_of(raised) -> dict:
    return raised.value.message_dict


def test_a_routed_subscription_creates_its_destination_through_the_topic_service(alice, clinical_topic, reader):
    sub = ask(alice, clinical_topic(), reader, mode=ROUTED, destination_name="payments.admissions-copy",
              filter="value.ward == 'ICU'")

    destination = Topic.objects.get(name="payments.admissions-copy")
    assert sub.destination == destination and destination.team == reader.team
    assert (destination.status, sub.filter) == (ResourceStatus.PENDING, "value.ward == 'ICU'")
    assert AuditEvent.objects.filter(action="topic.create", resource_name=destination.name, actor=alice).exists()


def test_a_bad_destination_name_gives_the_policys_error_and_creates_nothing(alice, clinical_topic, reader):
    with pytest.raises(ValidationError) as raised:
        ask(alice, clinical_topic(), reader, mode=ROUTED, destination_name="clinical.not-ours")

    [message] = errors_of(raised)["destination_name"]
    assert "pattern" in message and "payments.orders" in message
    assert not Subscription.objects.exists() and not Topic.objects.filter(name="clinical.not-ours").exists()


def test_a_routed_subscription_into_an_existing_topic_needs_one_of_the_subscribers(alice, carol, cluster,
                                                                                  clinical_topic, reader):
    theirs = clinical_topic()
    with pytest.raises(ValidationError) as raised:
        ask(alice, clinical_topic(), reader, mode=ROUTED, destination=theirs)
    assert errors_of(raised)["destination"] == ["The destination must be a topic of the subscribing team."]
    with pytest.raises(ValidationError) as raised:
        ask(alice, clinical_topic(), reader, mode=ROUTED)
    assert "destination" in errors_of(raised)

    ours = make_topic(alice, cluster, reader.team)
    assert ask(alice, clinical_topic(), reader, mode=ROUTED, destination=ours).destination == ours


def test_an_invalid_filter_is_a_field_error_with_its_column(alice, clinical_topic, reader):
    with pytest.raises(ValidationError) as raised:
        ask(alice, clinical_topic(), reader, mode=ROUTED, destination_name="payments.copy", filter="value.ward ==")

    assert errors_of(raised)["filter"] == ["Invalid filter at column 14: the filter ends too early"]
    assert not Topic.objects.filter(name="payments.copy").exists()


def test_a_direct_subscription_has_no_filter(alice, clinical_topic, reader):
    with pytest.raises(ValidationError) as raised:
        ask(alice, clinical_topic(), reader, filter="value.ward == 'ICU'")
    assert "filter" in errors_of(raised)


def test_the_same_active_subscription_cannot_be_asked_twice(alice, clinical_topic, reader):
    source = clinical_topic()
    ask(alice, source, reader)

    with pytest.raises(ValidationError, match="already has this subscription"):
        ask(alice, source, reader)
    assert Subscription.objects.count() == 1


def test_a_private_topic_is_not_found_by_an_outsider(alice, clinical_topic, reader):
    source = clinical_topic(visibility=Topic.Visibility.PRIVATE)

    with pytest.raises(NotFound):
        ask(alice, source, reader)
    assert not Subscription.objects.exists()


def test_only_writers_of_the_subscribing_team_ask_with_its_own_account(vera, carol, alice, cluster, clinical,
                                                                      clinical_topic, reader):
    with pytest.raises(PermissionDenied):
        ask(vera, clinical_topic(), reader)
    with pytest.raises(ValidationError) as raised:
        subscription_request(actor=alice, subscriber=reader.team, source=clinical_topic(),
                             service_account=make_account(cluster, clinical), mode="direct", reason="r", via=VIA)
    assert errors_of(raised)["service_account"] == ["The service account must belong to the subscribing team."]
    with pytest.raises(ValidationError) as raised:
        ask(alice, clinical_topic(), reader, reason="  ")
    assert "reason" in errors_of(raised)


def test_changing_the_filter_revalidates_and_asks_for_a_new_apply(alice, vera, clinical_topic, reader, scheduled):
    sub = ask(alice, clinical_topic(), reader, mode=ROUTED, destination_name="payments.icu-copy")
    scheduled.clear()

    with pytest.raises(ValidationError) as raised:
        subscription_update_filter(actor=alice, subscription=sub, filter="nope(value)", via=VIA)
    assert "unknown function nope()" in errors_of(raised)["filter"][0]
    with pytest.raises(PermissionDenied):
        subscription_update_filter(actor=vera, subscription=sub, filter="value.ward", via=VIA)

    changed = subscription_update_filter(actor=alice, subscription=sub, filter="value.ward == 'ICU'", via=VIA)
    assert (changed.filter, changed.generation, changed.status) == (
        "value.ward == 'ICU'", sub.generation + 1, ResourceStatus.PENDING)
    assert scheduled == [sub.source.cluster_id]


def test_the_filter_test_says_whether_a_sample_matches_or_what_is_wrong():
    assert subscription_filter_test(expression="value.ward == 'ICU'", event_text='{"ward": "ICU"}')["matched"] is True
    assert subscription_filter_test(expression="headers.source == 'lab'", event_text="{}",
                                    headers={"source": "ward"})["matched"] is False
    broken = subscription_filter_test(expression="value.ward ==", event_text="{}")
    assert (broken["matched"], broken["column"]) == (None, 14) and "ends too early" in broken["error"]
    bad_sample = subscription_filter_test(expression="value", event_text='{"ward": ')
    assert bad_sample["line"] == 1 and "not valid JSON" in bad_sample["error"]
    failing = subscription_filter_test(expression="length(value.n)", event_text='{"n": 3}')
    assert failing["dead_letter"] is True and failing["matched"] is None


def test_a_routed_request_waiting_for_approval_creates_its_destination_only_when_approved(
        alice, bob, carol, clinical_topic, reader):
    source = clinical_topic(subscriptions_need_approval=True)
    rejected = ask(alice, source, reader, mode=ROUTED, destination_name="payments.icu-copy", reason="ICU")
    assert rejected.destination is None and rejected.destination_name == "payments.icu-copy"
    assert not Topic.objects.filter(name="payments.icu-copy").exists()

    from onboarding.services.subscriptions import subscription_approve, subscription_reject

    subscription_reject(actor=carol, subscription=rejected, comment="not for you", via=VIA)
    assert not Topic.objects.filter(name="payments.icu-copy").exists()  # nothing was left behind

    approved = ask(alice, source, reader, mode=ROUTED, destination_name="payments.icu-copy", reason="ICU again")
    approved = subscription_approve(actor=carol, subscription=approved, comment="fine", via=VIA)
    destination = Topic.objects.get(name="payments.icu-copy")
    assert (approved.destination, approved.destination_name, destination.team) == (destination, "", reader.team)
    # Created as the requester asked for it: the topic's owners never own the subscriber's topics.
    assert AuditEvent.objects.filter(action="topic.create", resource_name=destination.name, actor=alice).exists()


def test_a_waiting_routed_request_checks_its_new_destination_name_at_once(alice, clinical_topic, reader):
    source = clinical_topic(subscriptions_need_approval=True)
    with pytest.raises(ValidationError) as raised:
        ask(alice, source, reader, mode=ROUTED, destination_name="clinical.not-ours")
    assert "pattern" in errors_of(raised)["destination_name"][0]
    ask(alice, source, reader, mode=ROUTED, destination_name="payments.copy-a")
    with pytest.raises(ValidationError):
        ask(alice, source, reader, mode=ROUTED, destination_name="payments.copy-a")  # the same request twice
    assert ask(alice, source, reader, mode=ROUTED, destination_name="payments.copy-b").destination_name == (
        "payments.copy-b")
