"""Offset resets on the real broker: the team's own service account reads, the group is reset (dry run, then
apply) and the account rereads exactly what the reset promised; refusals with members, approvals across teams,
the gate, deleting records, and the lag history."""

import time
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, TopicPartition
from django.conf import settings

from onboarding.changes.requests import change_request_approve
from onboarding.errors import NotFound, PermissionDenied, ValidationError
from onboarding.models import AuditEvent, ChangeRequest, LagSample, NotificationDelivery, OffsetReset, Subscription
from onboarding.selectors.groups import chart, group_detail, group_lag_history, team_groups, topic_lag_history
from onboarding.services.group_lag import lag_prune, lag_sample
from onboarding.services.groups import (
    ResetRequest,
    consumer_groups_for,
    offset_reset_approve,
    offset_reset_dry_run,
    offset_reset_reject,
    offset_reset_request,
)
from onboarding.services.records_delete import records_delete
from onboarding.services.service_accounts import service_account_create
from onboarding.services.subscriptions import subscription_request
from tests.fixtures.waiting import wait_for
from tests.integration.groups.conftest import produce

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("account_cleanup")]

# Recent enough that the topics' retention never deletes them while a test runs: two hours ago (on a whole
# second, so the time can be typed into the form) and an hour later.
T0 = (int(time.time()) - 7_200) * 1000
T1 = T0 + 3_600_000
T1_TEXT = datetime.fromtimestamp(T1 / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_reset_to_a_time_makes_the_account_reread_exactly_the_events_after_it(
        cluster, payments, alice, bob, orders, app_account, consumers, run):
    account, password = app_account
    group = f"payments.billing-{run}"
    produce(orders.name, [{"n": n} for n in range(600)], timestamp_ms=T0)
    produce(orders.name, [{"n": n} for n in range(600, 1000)], timestamp_ms=T1)

    first = consumers(account, password, group=group, topic=orders.name)
    assert sorted(e["n"] for e in first.read(1000)) == list(range(1000))
    first.close()

    request = ResetRequest("timestamp", timestamp=datetime.fromtimestamp(T1 / 1000, tz=UTC))
    dry = offset_reset_dry_run(actor=bob, cluster=cluster, group_id=group, topic=orders, request=request)
    assert dry["blocked"] == "" and dry["approval_by"] == ""
    assert dry["totals"] == {"lag_before": 0, "lag_after": 400, "lag_delta": 400}
    assert [p["partition"] for p in dry["partitions"]] == [0, 1]
    assert consumer_groups_for(cluster).committed(group) == {(orders.name, 0): dry["partitions"][0]["current"],
                                                             (orders.name, 1): dry["partitions"][1]["current"]}

    reset = offset_reset_request(actor=bob, cluster=cluster, group_id=group, topic=orders, request=request,
                                 reason="replay after the billing fix", via="api")
    assert (reset.status, reset.error) == (OffsetReset.Status.APPLIED, "")
    assert [p["new"] for p in reset.plan] == [p["new"] for p in dry["partitions"]]
    assert AuditEvent.objects.filter(action="group.reset.apply", resource_id=str(reset.pk)).exists()

    again = consumers(account, password, group=group, topic=orders.name)
    assert sorted(e["n"] for e in again.read(400)) == list(range(600, 1000))


def test_a_reset_while_the_group_has_an_active_member_is_refused_with_the_member(
        cluster, payments, bob, orders, app_account, consumers, run):
    account, password = app_account
    group = f"payments.live-{run}"
    produce(orders.name, [{"n": n} for n in range(10)], timestamp_ms=T0)
    member = consumers(account, password, group=group, topic=orders.name)
    member.read(10, settle=0.5)
    groups = consumer_groups_for(cluster)
    wait_for(lambda: (member.poll_once(), groups.describe([group])[group].has_active_members)[1], timeout=30,
             message="the consumer to be a member of the group")

    dry = offset_reset_dry_run(actor=bob, cluster=cluster, group_id=group, topic=orders,
                               request=ResetRequest("earliest"))
    assert "active member" in dry["blocked"]
    with pytest.raises(ValidationError) as refused:
        offset_reset_request(actor=bob, cluster=cluster, group_id=group, topic=orders,
                             request=ResetRequest("earliest"), via="api")
    assert "active member" in refused.value.message_dict["group"][0]
    assert "stop its consumers first" in refused.value.message_dict["group"][0]
    assert not OffsetReset.objects.filter(group_id=group).exists()


def _commit_as_admin(group: str, offsets: dict) -> None:
    """Offsets of another team's group, committed through the admin listener (the group never had members)."""
    consumer = Consumer({"bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS, "group.id": group,
                         "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()


def test_resetting_a_group_over_another_teams_topic_waits_for_that_teams_owner(
        cluster, payments, alice, bob, clinical, carol, orders, run):
    account, _ = service_account_create(actor=carol, cluster=cluster, team=clinical, name=f"reports-{run}")
    subscription = subscription_request(actor=carol, subscriber=clinical, source=orders, service_account=account,
                                        mode=Subscription.Mode.DIRECT, reason="ward reports", via="api")
    assert subscription.decision == Subscription.Decision.APPROVED  # a public topic
    group = f"clinical.reports-{run}"
    produce(orders.name, [{"n": n} for n in range(20)], timestamp_ms=T0)
    _commit_as_admin(group, {(orders.name, 0): _high(cluster, orders.name, 0), (orders.name, 1):
                             _high(cluster, orders.name, 1)})
    for team in (payments, clinical):  # each team's e-mail recipient: one delivery row per notification
        team.notification_emails = [f"{team.slug}@example.org"]
        team.save(update_fields=["notification_emails"])

    dry = offset_reset_dry_run(actor=carol, cluster=cluster, group_id=group, topic=orders,
                               request=ResetRequest("earliest"))
    assert dry["approval_by"] == "payments" and dry["totals"]["lag_after"] == 20
    reset = offset_reset_request(actor=carol, cluster=cluster, group_id=group, topic=orders,
                                 request=ResetRequest("earliest"), reason="rebuild the reports", via="browser")
    assert reset.status == OffsetReset.Status.REQUESTED
    assert sum(consumer_groups_for(cluster).committed(group).values()) == 20, "nothing moves before approval"
    assert _told(payments) == ["offset_reset.requested"] and _told(clinical) == [], "the deciders hear of it"

    with pytest.raises(PermissionDenied):
        offset_reset_approve(actor=carol, reset=reset, via="browser")  # not an owner of payments
    with pytest.raises(PermissionDenied):
        offset_reset_approve(actor=bob, reset=reset, via="browser")  # a member, not an owner
    approved = offset_reset_approve(actor=alice, reset=reset, comment="fine", via="browser")
    assert approved.status == OffsetReset.Status.APPLIED and approved.decided_by == alice
    assert consumer_groups_for(cluster).committed(group) == {(orders.name, 0): 0, (orders.name, 1): 0}
    assert AuditEvent.objects.filter(action="group.reset.approve", resource_id=str(reset.pk)).exists()
    assert _told(clinical) == ["offset_reset.applied"] and _told(payments) == ["offset_reset.requested"]
    with pytest.raises(ValidationError):
        offset_reset_reject(actor=alice, reset=approved, via="browser")


def _told(team) -> list[str]:
    return sorted(NotificationDelivery.objects.filter(team=team).values_list("event", flat=True))


def _high(cluster, topic, partition):
    return consumer_groups_for(cluster).watermarks([topic])[(topic, partition)].high


def test_a_group_of_another_team_without_a_subscription_cannot_be_reset_over_the_topic(
        cluster, clinical, carol, orders, run):
    with pytest.raises(ValidationError) as refused:
        offset_reset_dry_run(actor=carol, cluster=cluster, group_id=f"clinical.x-{run}", topic=orders,
                             request=ResetRequest("earliest"))
    assert "no approved direct subscription" in refused.value.message_dict["topic"][0]
    with pytest.raises(NotFound):  # another team's group is not even there for carol
        offset_reset_dry_run(actor=carol, cluster=cluster, group_id=f"payments.x-{run}", topic=orders,
                             request=ResetRequest("earliest"))


def test_a_reset_on_a_gated_cluster_is_a_change_request_applied_once_approved(cluster, payments, alice, bob, otto,
                                                                              orders, gated, run):
    gated(cluster, "group.reset")
    produce(orders.name, [{"n": 1}], timestamp_ms=T0)
    opened = offset_reset_request(actor=bob, cluster=cluster, group_id=f"payments.gated-{run}", topic=orders,
                                  request=ResetRequest("latest"), via="api")
    assert isinstance(opened, ChangeRequest)
    assert opened.changes[0]["operation"] == "group.reset"
    assert "set the committed offsets" in opened.plan["steps"][0]["actions"][0]
    assert not OffsetReset.objects.exists()

    approved = change_request_approve(actor=otto, change_request=opened, via="browser")
    assert approved.status == "applied", approved.error
    reset = OffsetReset.objects.get()
    assert reset.status == OffsetReset.Status.APPLIED and reset.requested_by == bob


def test_bad_reset_input_is_refused_per_field(cluster, bob, orders, run):
    group = f"payments.bad-{run}"
    for request, field in ((ResetRequest("timestamp"), "timestamp"), (ResetRequest("sideways"), "strategy"),
                           (ResetRequest("earliest", partitions=(7,)), "partitions"),
                           (ResetRequest("shift", shift=-5), "shift")):
        with pytest.raises(ValidationError) as refused:
            offset_reset_dry_run(actor=bob, cluster=cluster, group_id=group, topic=orders, request=request)
        assert field in refused.value.message_dict, (request, refused.value.message_dict)


def test_the_topic_owner_deletes_records_before_an_offset(cluster, payments, alice, bob, otto, orders, gated):
    produce(orders.name, [{"n": n} for n in range(40)], timestamp_ms=T0)
    marks = consumer_groups_for(cluster).watermarks([orders.name])
    with pytest.raises(PermissionDenied):
        records_delete(actor=bob, topic=orders, before={0: 1}, confirm_name=orders.name, via="api")
    with pytest.raises(ValidationError) as refused:
        records_delete(actor=alice, topic=orders, before={0: 10_000}, confirm_name=orders.name, via="api")
    assert "between" in refused.value.message_dict["before"][0]
    with pytest.raises(ValidationError) as unconfirmed:
        records_delete(actor=alice, topic=orders, before={0: 1}, confirm_name="nope", via="api")
    assert "confirm_name" in unconfirmed.value.message_dict

    done = records_delete(actor=alice, topic=orders, before={0: 5, 1: -1}, confirm_name=orders.name, via="api")
    assert done["first_offsets"] == {"0": 5, "1": marks[(orders.name, 1)].high}
    after = consumer_groups_for(cluster).watermarks([orders.name])
    assert after[(orders.name, 0)].low == 5 and after[(orders.name, 1)].low == after[(orders.name, 1)].high
    assert AuditEvent.objects.filter(action="topic.delete_records", resource_id=str(orders.pk)).exists()

    gated(cluster, "topic.delete")
    opened = records_delete(actor=alice, topic=orders, before={0: 6}, confirm_name=orders.name, via="api")
    assert isinstance(opened, ChangeRequest) and opened.changes[0]["operation"] == "topic.delete_records"
    assert consumer_groups_for(cluster).watermarks([orders.name])[(orders.name, 0)].low == 5
    assert change_request_approve(actor=otto, change_request=opened, via="api").status == "applied"
    assert consumer_groups_for(cluster).watermarks([orders.name])[(orders.name, 0)].low == 6


def test_lag_is_sampled_into_a_bounded_history_and_plotted(
        cluster, payments, alice, orders, app_account, consumers, run):
    account, password = app_account
    group = f"payments.plot-{run}"
    produce(orders.name, [{"n": n} for n in range(30)], timestamp_ms=T0)
    reader = consumers(account, password, group=group, topic=orders.name)
    reader.read(30, settle=0.5)
    reader.close()
    for more in (5, 10, 0):
        produce(orders.name, [{"n": n} for n in range(more)], timestamp_ms=T1)
        assert lag_sample(cluster) >= 1
        time.sleep(0.01)  # distinct sample times, not a timing assertion
    history = group_lag_history(cluster, group)
    assert [lag for _, lag in sorted(history[orders.name])] == [5, 15, 15]
    picture = chart(history)
    assert picture.point_count == 3 and picture.max_lag == 15
    assert len(chart(topic_lag_history(orders)).series) >= 1

    listed = {row["group_id"]: row for row in team_groups(payments, cluster)}
    assert listed[group]["lag"] == 15 and listed[group]["members"] == 0 and listed[group]["topics"] == [orders.name]
    detail = group_detail(cluster, group)
    assert sum(p["lag"] for p in detail["partitions"]) == 15 and detail["members"] == []

    LagSample.objects.filter(group_id=group).update(sampled_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert lag_prune() >= 3
    assert group_lag_history(cluster, group) == {}
