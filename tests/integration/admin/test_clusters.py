"""Clusters and their topic policies in the admin."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, Cluster, TopicPolicy
from tests.integration.admin.forms import changeform_data, form_errors

pytestmark = pytest.mark.django_db
POLICY = "topic_policy-0-"  # the inline's form prefix


def _edit(client, cluster, **changes):
    url = reverse("admin:onboarding_cluster_change", args=[cluster.pk])
    return client.post(url, {**changeform_data(client.get(url)), **changes})


def test_a_policy_no_topic_could_satisfy_is_refused_on_the_form(operator_client, cluster):
    response = _edit(operator_client, cluster, **{f"{POLICY}min_partitions": "10", f"{POLICY}max_partitions": "2",
                                                  f"{POLICY}name_pattern": r"^[a-z.]+$"})

    assert response.status_code == 200
    errors = form_errors(response)
    assert errors["max_partitions"] == ["Must be at least the minimum."]
    assert any("{team}" in m for m in errors["name_pattern"]), errors
    policy = TopicPolicy.objects.get(cluster=cluster)
    assert (policy.min_partitions, policy.max_partitions) == (1, 24)


def test_config_rules_must_name_a_range_or_choices(operator_client, cluster):
    response = _edit(operator_client, cluster, **{f"{POLICY}config_rules": '{"retention.ms": {"maximum": 5}}'})

    assert response.status_code == 200
    assert form_errors(response)["config_rules"] == ["retention.ms: a rule needs 'choices' or 'min'/'max'."]


def test_a_valid_policy_change_is_saved_and_audited(operator_client, operator, cluster):
    response = _edit(operator_client, cluster, **{f"{POLICY}max_partitions": "48"})

    assert response.status_code == 302, form_errors(response)
    assert TopicPolicy.objects.get(cluster=cluster).max_partitions == 48
    event = AuditEvent.objects.get(action="topic_policy.update")
    assert (event.via, event.actor, event.after) == (AuditEvent.Via.ADMIN, operator, {"max_partitions": 48})


def test_secret_references_are_shown_as_they_are(operator_client, cluster):
    cluster.security_protocol = Cluster.SecurityProtocol.SASL_PLAINTEXT
    cluster.sasl_mechanism, cluster.sasl_username_ref = "SCRAM-SHA-512", "env:KAFKA_ADMIN_USER"
    cluster.sasl_password_ref = "file:/run/secrets/kafka-password"
    cluster.save()

    response = operator_client.get(reverse("admin:onboarding_cluster_change", args=[cluster.pk]))

    assert b'value="env:KAFKA_ADMIN_USER"' in response.content
    assert b'value="file:/run/secrets/kafka-password"' in response.content


def test_a_cluster_added_in_the_admin_gets_the_default_policy(operator_client, operator):
    response = operator_client.post(reverse("admin:onboarding_cluster_add"), {
        "name": "prod-eu", "environment": "prod", "order": "2", "is_active": "on",
        "bootstrap_servers": "kafka-1.prod:9092", "security_protocol": "PLAINTEXT",
        "reconcile_interval_seconds": "60", "drift_reaction": "report"})

    assert response.status_code == 302
    cluster = Cluster.objects.get(name="prod-eu")
    assert TopicPolicy.objects.filter(cluster=cluster).exists()
    event = AuditEvent.objects.get(action="cluster.create", resource_id=str(cluster.pk))
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)


def test_a_cluster_edit_goes_through_cluster_update(operator_client, operator, cluster):
    response = _edit(operator_client, cluster, drift_reaction="revert", reconcile_interval_seconds="30")

    assert response.status_code == 302, form_errors(response)
    cluster.refresh_from_db()
    assert (cluster.drift_reaction, cluster.reconcile_interval_seconds) == ("revert", 30)
    event = AuditEvent.objects.get(action="cluster.update")
    assert (event.via, event.actor) == (AuditEvent.Via.ADMIN, operator)
    assert event.before == {"drift_reaction": "report", "reconcile_interval_seconds": 5}
    assert event.after == {"drift_reaction": "revert", "reconcile_interval_seconds": 30}
    assert not AuditEvent.objects.filter(action="topic_policy.update").exists()  # the untouched policy
