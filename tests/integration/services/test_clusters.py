"""cluster_update and policy_update: operators only, validated by the models, audited field by field."""

import pytest
from django.contrib.auth.models import AnonymousUser

from onboarding.errors import PermissionDenied, ValidationError
from onboarding.models import AuditEvent, Cluster, TopicPolicy
from onboarding.services.clusters import cluster_update, policy_update

pytestmark = pytest.mark.django_db
VIA = AuditEvent.Via.ADMIN


@pytest.fixture
def policy(cluster):
    return TopicPolicy.objects.get(cluster=cluster)


@pytest.mark.parametrize("who", ["alice", "bob", "vera", "carol"])
def test_only_operators_change_a_cluster_or_its_policy(request, cluster, policy, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        cluster_update(actor=actor, cluster=cluster, via=VIA, is_active=False)
    with pytest.raises(PermissionDenied):
        policy_update(actor=actor, policy=policy, via=VIA, max_partitions=48)
    with pytest.raises(PermissionDenied):
        cluster_update(actor=AnonymousUser(), cluster=cluster, via=VIA, is_active=False)
    assert Cluster.objects.get(pk=cluster.pk).is_active
    assert not AuditEvent.objects.filter(action__in=["cluster.update", "topic_policy.update"]).exists()


def test_an_operator_changes_a_cluster_and_the_change_is_audited(operator, cluster):
    updated = cluster_update(actor=operator, cluster=cluster, via=VIA, drift_reaction="revert",
                             environment="dev", registry_url="http://registry.example.org:8081")

    assert Cluster.objects.get(pk=cluster.pk).drift_reaction == updated.drift_reaction == "revert"
    event = AuditEvent.objects.get(action="cluster.update")
    assert (event.actor, event.via, event.resource_id) == (operator, VIA, str(cluster.pk))
    # Only what really changed: the environment was already dev.
    assert event.before == {"drift_reaction": "report", "registry_url": cluster.registry_url}
    assert event.after == {"drift_reaction": "revert", "registry_url": "http://registry.example.org:8081"}


def test_a_cluster_change_that_changes_nothing_is_not_audited(operator, cluster):
    cluster_update(actor=operator, cluster=cluster, via=VIA, name=cluster.name)
    assert not AuditEvent.objects.filter(action="cluster.update").exists()


def test_an_invalid_cluster_is_refused_by_full_clean_and_not_saved(operator, cluster):
    with pytest.raises(ValidationError) as refused:
        cluster_update(actor=operator, cluster=cluster, via=VIA, security_protocol="SASL_SSL",
                       reconcile_interval_seconds=1)

    assert set(refused.value.message_dict) == {"sasl_mechanism", "reconcile_interval_seconds"}
    assert Cluster.objects.get(pk=cluster.pk).security_protocol == "PLAINTEXT"
    assert not AuditEvent.objects.filter(action="cluster.update").exists()


def test_unknown_or_fixed_fields_are_a_programming_error(operator, cluster, policy):
    with pytest.raises(TypeError, match="last_checked_at"):
        cluster_update(actor=operator, cluster=cluster, via=VIA, last_checked_at=None)
    with pytest.raises(TypeError, match="cluster"):
        policy_update(actor=operator, policy=policy, via=VIA, cluster=cluster)


def test_an_operator_changes_a_policy_and_the_change_is_audited(operator, policy):
    policy_update(actor=operator, policy=policy, via=VIA, max_partitions=48, min_partitions=1)

    assert TopicPolicy.objects.get(pk=policy.pk).max_partitions == 48
    event = AuditEvent.objects.get(action="topic_policy.update")
    assert (event.actor, event.via) == (operator, VIA)
    assert (event.before, event.after) == ({"max_partitions": 24}, {"max_partitions": 48})


def test_a_policy_no_topic_could_satisfy_is_refused_with_the_policy_checks(operator, policy):
    with pytest.raises(ValidationError) as refused:
        policy_update(actor=operator, policy=policy, via=VIA, min_partitions=10, max_partitions=2,
                      name_pattern=r"^[a-z.]+$")

    errors = refused.value.message_dict
    assert errors["max_partitions"] == ["Must be at least the minimum."]
    assert any("{team}" in message for message in errors["name_pattern"])
    assert TopicPolicy.objects.get(pk=policy.pk).max_partitions == 24
    assert not AuditEvent.objects.filter(action="topic_policy.update").exists()
