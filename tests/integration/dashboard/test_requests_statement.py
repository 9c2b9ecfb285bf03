"""The dashboard's requests statement (selectors/dashboard_requests.py) against the rules it stands for, written
with the ORM: for an owner, a second owner, a member, a viewer, another team's owner and an operator, the same
rows in the same order, loaded with everything the dashboard shows."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from onboarding.models import ChangeRequest, Membership, OffsetReset, ServiceAccount, Subscription, Topic
from onboarding.permissions import is_operator
from onboarding.selectors.changes import change_requests_awaiting
from onboarding.selectors.dashboard_requests import dashboard_requests
from onboarding.selectors.subscriptions import pending_approvals_for

pytestmark = pytest.mark.django_db


def _topic(cluster, team, name):
    return Topic.objects.create(cluster=cluster, team=team, name=name, partitions=1, replication_factor=1,
                                collision_key=name.replace(".", "_"))


@pytest.fixture
def world(gated, cluster, prod_cluster, payments, clinical, alice, otto, carol):
    gated(cluster, "topic.delete")  # another owner of the team may approve here
    gated(prod_cluster, "topic.delete", approvers="operators")  # only operators here
    orders, vitals = _topic(cluster, payments, "payments.orders"), _topic(cluster, clinical, "clinical.vitals")
    later = iter(range(100))

    def at():
        return timezone.now() - timedelta(minutes=100 - next(later))

    for asker, team, source, decision in ((carol, clinical, orders, "requested"), (alice, payments, vitals,
                                          "requested"), (None, clinical, orders, "requested"),
                                          (carol, clinical, orders, "approved"), (otto, payments, vitals, "requested")):
        account = ServiceAccount.objects.create(cluster=cluster, team=team, name=f"r{source.pk}{decision}{asker}",
                                                username=f"{team.slug}.r-{next(later)}")
        sub = Subscription.objects.create(subscriber=team, source=source, service_account=account, reason="r",
                                          mode=Subscription.Mode.DIRECT, decision=decision, requested_by=asker)
        Subscription.objects.filter(pk=sub.pk).update(created_at=at())
    for asker, team, topic, status, strategy in (
            (carol, clinical, orders, "requested", OffsetReset.Strategy.SHIFT),
            (alice, payments, vitals, "requested", OffsetReset.Strategy.TIMESTAMP),
            (None, clinical, orders, "requested", OffsetReset.Strategy.OFFSET),
            (carol, clinical, orders, "applied", OffsetReset.Strategy.EARLIEST),
            (otto, payments, orders, "requested", OffsetReset.Strategy.LATEST)):
        OffsetReset.objects.create(cluster=cluster, team=team, group_id=f"{team.slug}.g{next(later)}", topic=topic,
                                   strategy=strategy, shift=-5, offset=7, timestamp=timezone.now(), reason="r",
                                   requested_by=asker, status=status, requested_at=at())
    for asker, team, on, status in ((otto, payments, cluster, "pending"), (alice, payments, cluster, "pending"),
                                    (carol, clinical, cluster, "pending"), (otto, payments, prod_cluster, "pending"),
                                    (otto, payments, cluster, "rejected"), (None, payments, cluster, "pending")):
        cr = ChangeRequest.objects.create(cluster=on, team=team, title=f"Change {next(later)}", requested_by=asker,
                                          requested_via="api", status=status,
                                          expires_at=timezone.now() + timedelta(hours=1))
        ChangeRequest.objects.filter(pk=cr.pk).update(created_at=at())


def _resets_awaiting(user):
    waiting = OffsetReset.objects.filter(status="requested").exclude(requested_by=user)
    if is_operator(user):
        return waiting
    return waiting.filter(topic__team__memberships__user=user, topic__team__memberships__role=Membership.Role.OWNER)


def _expected(user) -> dict[str, list[int]]:
    return {
        "waiting": [s.pk for s in pending_approvals_for(user)[:20]],
        "waiting_resets": [r.pk for r in _resets_awaiting(user)[:20]],
        "waiting_changes": [c.pk for c in change_requests_awaiting(user)[:20]],
        "mine_changes": list(ChangeRequest.objects.filter(requested_by=user, status="pending")
                             .values_list("pk", flat=True)[:20]),
        "mine_subscriptions": list(Subscription.objects.filter(requested_by=user, decision="requested")
                                   .values_list("pk", flat=True)[:20]),
        "mine_resets": list(OffsetReset.objects.filter(requested_by=user, status="requested")
                            .values_list("pk", flat=True)[:20]),
    }


@pytest.mark.parametrize("who", ["alice", "otto", "bob", "vera", "carol", "operator"])
def test_every_section_has_the_rows_of_its_rule_in_its_order(world, who, request):
    user = get_user_model().objects.get(pk=request.getfixturevalue(who).pk)

    found = {name: [row.pk for row in rows] for name, rows in dashboard_requests(user).items()}

    assert found == _expected(user)


def test_the_rows_carry_what_the_dashboard_shows_without_another_query(world, operator, django_assert_num_queries):
    sections = dashboard_requests(operator)
    assert all(sections[name] for name in ("waiting", "waiting_resets", "waiting_changes"))

    with django_assert_num_queries(0):
        shown = [(s.mode, s.reason, s.source.name, s.subscriber.slug, s.requested_by and s.requested_by.get_username())
                 for s in sections["waiting"]]
        shown += [(r.group_id, r.topic_id, r.topic.name, r.describe_target(), r.team.slug,
                   r.requested_by and r.requested_by.get_username()) for r in sections["waiting_resets"]]
        shown += [(c.title, c.expires_at, c.team.slug, c.cluster.name, c.requested_by and c.requested_by.username)
                  for c in sections["waiting_changes"]]
    assert ("clinical.vitals", "payments", "otto") in {(s[2], s[3], s[4]) for s in shown[:4]}
    assert {r.describe_target() for r in sections["waiting_resets"]} >= {"a shift by -5", "offset 7", "latest"}
    assert None in {s.requested_by for s in sections["waiting"]}  # an account since removed
    assert all(c.expires_at.tzinfo is not None for c in sections["waiting_changes"])

    otto = get_user_model().objects.get(username="otto")
    mine = dashboard_requests(otto)
    with django_assert_num_queries(0):
        assert [(c.title, c.team.slug, c.cluster.name) for c in mine["mine_changes"]][-1][1:] == ("payments", "local")
        assert [(s.subscriber.slug, s.source.name, s.source.team.slug) for s in mine["mine_subscriptions"]] == [
            ("payments", "clinical.vitals", "clinical")]
        assert [(r.group_id.split(".")[0], r.topic.name, r.describe_target()) for r in mine["mine_resets"]] == [
            ("payments", "payments.orders", "latest")]
