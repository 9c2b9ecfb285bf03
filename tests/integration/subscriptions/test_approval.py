"""Who decides on a subscription and what each decision leaves for the reconciler."""

import pytest
from django.contrib.auth import get_user_model

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, Membership, ResourceStatus, Subscription, Topic
from onboarding.services.subscriptions import (
    AUTO_APPROVED,
    subscription_approve,
    subscription_reject,
    subscription_request,
    subscription_revoke,
)
from onboarding.services.teams import membership_set
from tests.integration.subscriptions.helpers import make_account

pytestmark = pytest.mark.django_db
VIA = AuditEvent.Via.API
Decision = Subscription.Decision


def ask(actor, source, account, **fields):
    fields.setdefault("mode", Subscription.Mode.DIRECT)
    fields.setdefault("reason", "Billing needs the admissions.")
    return subscription_request(actor=actor, subscriber=account.team, source=source, service_account=account,
                                via=VIA, **fields)


def test_a_public_topic_without_approval_is_approved_at_once_and_scheduled(alice, clinical_topic, reader,
                                                                          scheduled):
    source = clinical_topic()

    sub = ask(alice, source, reader)

    assert (sub.decision, sub.status, sub.decided_by, sub.decision_comment) == (
        Decision.APPROVED, ResourceStatus.PENDING, None, AUTO_APPROVED)
    assert sub.decided_at is not None and sub.requested_by == alice
    assert scheduled == [source.cluster_id]
    event = AuditEvent.objects.get(action="subscription.request")
    assert (event.actor, event.after["decision"]) == (alice, "approved")


@pytest.mark.parametrize("fields", [{"subscriptions_need_approval": True}, {"visibility": Topic.Visibility.PRIVATE}])
def test_a_topic_that_needs_approval_or_is_private_waits_for_its_owners(alice, carol, clinical_topic, reader,
                                                                       scheduled, fields):
    source = clinical_topic()
    Topic.objects.filter(pk=source.pk).update(**fields)
    source.refresh_from_db()
    if source.visibility == Topic.Visibility.PRIVATE:
        # Only someone who can see the private topic may ask for it: make alice a member of clinical too.
        membership_set(actor=carol, team=source.team, user=alice, role=Membership.Role.MEMBER)
        alice = get_user_model().objects.get(pk=alice.pk)

    sub = ask(alice, source, reader)

    assert (sub.decision, sub.decided_at, sub.decision_comment) == (Decision.REQUESTED, None, "")
    assert scheduled == []


@pytest.fixture
def waiting(alice, clinical_topic, reader):
    """A request of payments (by alice) on a clinical topic that needs approval."""
    return ask(alice, _needs_approval(clinical_topic()), reader)


def _needs_approval(topic):
    Topic.objects.filter(pk=topic.pk).update(subscriptions_need_approval=True)
    topic.refresh_from_db()
    return topic


def test_an_owner_of_the_topic_team_approves_and_the_reconciler_is_asked(carol, waiting, scheduled):
    sub = subscription_approve(actor=carol, subscription=waiting, comment="ok for billing", via=VIA)

    assert (sub.decision, sub.decided_by, sub.decision_comment, sub.status) == (
        Decision.APPROVED, carol, "ok for billing", ResourceStatus.PENDING)
    assert sub.generation == waiting.generation + 1
    assert scheduled == [sub.source.cluster_id]
    assert AuditEvent.objects.filter(action="subscription.approve", actor=carol).exists()


def test_the_requester_cannot_approve_or_reject_their_own_request_even_as_an_owner(alice, carol, waiting):
    membership_set(actor=carol, team=waiting.source.team, user=alice, role=Membership.Role.OWNER)
    alice = get_user_model().objects.get(pk=alice.pk)

    for decide in (subscription_approve, subscription_reject):
        with pytest.raises(PermissionDenied, match="someone else"):
            decide(actor=alice, subscription=waiting, via=VIA)
    assert Subscription.objects.get(pk=waiting.pk).decision == Decision.REQUESTED


def test_an_operator_requesting_cannot_approve_either(operator, clinical_topic, cluster, payments):
    sub = ask(operator, _needs_approval(clinical_topic()), make_account(cluster, payments, "ops"))

    with pytest.raises(PermissionDenied):
        subscription_approve(actor=operator, subscription=sub, via=VIA)


@pytest.mark.parametrize("who", ["alice", "bob", "vera"])
def test_outsiders_and_the_subscriber_side_cannot_decide(request, waiting, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        subscription_approve(actor=actor, subscription=waiting, via=VIA)


def test_an_operator_may_decide_on_someone_elses_request(operator, waiting, scheduled):
    sub = subscription_approve(actor=operator, subscription=waiting, via=VIA)
    assert (sub.decision, sub.decided_by) == (Decision.APPROVED, operator)


def test_a_rejection_applies_nothing(carol, waiting, scheduled):
    sub = subscription_reject(actor=carol, subscription=waiting, comment="no PHI for billing", via=VIA)

    assert (sub.decision, sub.decision_comment, sub.generation) == (
        Decision.REJECTED, "no PHI for billing", waiting.generation)
    assert sub.delete_requested_at is None and scheduled == []
    with pytest.raises(ValidationError, match="Only waiting requests"):
        subscription_approve(actor=carol, subscription=sub, via=VIA)


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "operator"])
def test_either_side_revokes_an_approved_subscription_and_the_reconciler_removes_it(request, alice, clinical_topic,
                                                                                   reader, scheduled, who):
    approved = ask(alice, clinical_topic(), reader)
    scheduled.clear()

    sub = subscription_revoke(actor=request.getfixturevalue(who), subscription=approved, comment="done", via=VIA)

    assert (sub.decision, sub.status) == (Decision.REVOKED, ResourceStatus.DELETING)
    assert sub.delete_requested_at is not None and sub.generation == approved.generation + 1
    assert scheduled == [sub.source.cluster_id]


def test_a_viewer_of_the_subscribing_team_cannot_revoke(vera, clinical_topic, reader, alice):
    sub = ask(alice, clinical_topic(), reader)
    with pytest.raises(PermissionDenied):
        subscription_revoke(actor=vera, subscription=sub, via=VIA)
    assert Subscription.objects.get(pk=sub.pk).decision == Decision.APPROVED


def test_withdrawing_a_waiting_request_leaves_nothing_to_remove(alice, waiting, scheduled):
    sub = subscription_revoke(actor=alice, subscription=waiting, via=VIA)

    assert (sub.decision, sub.delete_requested_at) == (Decision.REVOKED, None)
    assert scheduled == []
    with pytest.raises(ValidationError, match="already revoked"):
        subscription_revoke(actor=alice, subscription=sub, via=VIA)



def test_only_approved_or_revoked_subscriptions_are_due_for_the_access_reconciler(alice, carol, waiting, cluster):
    from onboarding.reconcile.access import due_subscriptions

    assert waiting not in due_subscriptions(cluster.pk)
    subscription_reject(actor=carol, subscription=waiting, comment="Not for billing.", via=VIA)
    assert not due_subscriptions(cluster.pk).filter(pk=waiting.pk).exists()
