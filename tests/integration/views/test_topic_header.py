"""The topic page's header statement (selectors/topic_page.py) against the ORM selectors it stands for: the same
topic, team and cluster, the same visibility, roles, waiting change, own subscription and managing aggregation."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from onboarding.errors import NotFound
from onboarding.models import Aggregation, ChangeRequest, ResourceStatus, ServiceAccount, Subscription, Topic
from onboarding.permissions import roles_of
from onboarding.selectors.topic_page import topic_header_for
from onboarding.selectors.topics import topic_for
from onboarding.services.teams import membership_set
from tests.integration.views.conftest import private_topic, public_topic  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _fresh(user):
    """The user as a new request loads it: no roles remembered yet."""
    return get_user_model().objects.get(pk=user.pk)


def _values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_topic_team_and_cluster_are_the_ones_the_orm_loads(alice, public_topic):  # noqa: F811
    Topic.objects.filter(pk=public_topic.pk).update(
        status=ResourceStatus.DRIFTED, drift={"partitions": {"desired": 3, "observed": 6}},
        observed={"partitions": 6}, next_attempt_at=timezone.now() + timedelta(minutes=5), tags=["a", "b"])

    header = topic_header_for(_fresh(alice), public_topic.pk)
    loaded = topic_for(_fresh(alice), public_topic.pk)

    assert _values(header.topic) == _values(loaded)
    assert _values(header.topic.team) == _values(loaded.team)
    assert _values(header.topic.cluster) == _values(loaded.cluster)
    assert header.topic.managed_by is None
    assert (header.open_change, header.own_subscription) == (None, None)


def test_visibility_is_that_of_topic_for(alice, carol, operator, public_topic, private_topic):  # noqa: F811
    assert topic_header_for(_fresh(carol), public_topic.pk).topic.pk == public_topic.pk
    with pytest.raises(NotFound):
        topic_header_for(_fresh(carol), private_topic.pk)  # another team's private topic is "not found"
    assert topic_header_for(_fresh(alice), private_topic.pk).topic.pk == private_topic.pk
    assert topic_header_for(_fresh(operator), private_topic.pk).topic.pk == private_topic.pk
    for missing in (10**9, "12a"):
        with pytest.raises(NotFound):
            topic_header_for(_fresh(alice), missing)


def test_the_viewers_roles_are_remembered_as_roles_of_reads_them(alice, carol, clinical, public_topic):  # noqa: F811
    membership_set(actor=None, team=clinical, user=alice, role="viewer")
    viewer = _fresh(alice)

    topic_header_for(viewer, public_topic.pk)

    assert viewer._portal_roles == roles_of(_fresh(alice)) and len(viewer._portal_roles) == 2
    stranger = _fresh(carol)
    topic_header_for(stranger, public_topic.pk)
    assert stranger._portal_roles == {clinical.pk: "owner"}


def test_the_waiting_change_own_subscription_and_managing_aggregation(alice, carol, cluster, clinical,
                                                                     public_topic):  # noqa: F811
    older = ChangeRequest.objects.create(cluster=cluster, team=public_topic.team, title="Older", requested_by=carol,
                                         requested_via="api", target_type="topic", target_id=str(public_topic.pk),
                                         expires_at=timezone.now() + timedelta(hours=1))
    newer = ChangeRequest.objects.create(cluster=cluster, team=public_topic.team, title="Newer", requested_by=alice,
                                         requested_via="api", target_type="topic", target_id=str(public_topic.pk),
                                         expires_at=timezone.now() + timedelta(hours=1))
    ChangeRequest.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=1))
    account = ServiceAccount.objects.create(cluster=cluster, team=clinical, name="reader", username="clinical.reader")
    asked = Subscription.objects.create(subscriber=clinical, source=public_topic, service_account=account,
                                        mode=Subscription.Mode.DIRECT, decision=Subscription.Decision.REQUESTED,
                                        reason="r", requested_by=carol)
    Aggregation.objects.bulk_create([
        Aggregation(cluster=cluster, team=public_topic.team, name=name, source=public_topic, output=public_topic,
                    output_topic=public_topic.name, status=status, group_by="value.x", size_ms=60000,
                    measures=[{"name": "n", "op": "count"}])
        for name, status in (("live", ResourceStatus.READY), ("gone", ResourceStatus.DELETED))])

    header = topic_header_for(_fresh(carol), public_topic.pk)

    change = header.open_change
    assert (change.pk, change.title, change.requested_by_id) == (newer.pk, "Newer", alice.pk)
    assert (header.own_subscription.pk, header.own_subscription.decision) == (asked.pk, "requested")
    managing = header.topic.managed_by
    assert managing.definition_id == "payments.live" and managing == _fresh_topic(public_topic).managed_by
    Subscription.objects.filter(pk=asked.pk).update(decision=Subscription.Decision.APPROVED)
    assert topic_header_for(_fresh(carol), public_topic.pk).own_subscription.decision == "approved"
    assert topic_header_for(_fresh(alice), public_topic.pk).own_subscription is None  # not alice's team's


def _fresh_topic(topic):
    return Topic.objects.get(pk=topic.pk)
