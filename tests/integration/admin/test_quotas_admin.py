"""Operators set quotas in the admin, through the services: a team's override on the team page, the cluster's
default on the cluster page, a service account's client quotas on its page; each audited."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, ResourceStatus, ServiceAccount
from onboarding.models.clusters import TeamQuota
from tests.integration.admin.forms import changeform_data, form_errors

pytestmark = pytest.mark.django_db


def test_the_team_page_sets_an_override_and_the_cluster_page_the_default(operator_client, operator, cluster, payments):
    team_url = reverse("admin:onboarding_team_change", args=[payments.pk])
    data = changeform_data(operator_client.get(team_url))
    data.update({"quotas-TOTAL_FORMS": "1", "quotas-0-cluster": str(cluster.pk), "quotas-0-max_partitions": "300"})
    response = operator_client.post(team_url, data)
    assert response.status_code == 302, form_errors(response)

    cluster_url = reverse("admin:onboarding_cluster_change", args=[cluster.pk])
    data = changeform_data(operator_client.get(cluster_url))
    prefix = "team_quotas"
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update({f"{prefix}-TOTAL_FORMS": str(total + 1), f"{prefix}-{total}-max_partitions": "200",
                 f"{prefix}-{total}-unlimited_topic_bytes": "1073741824"})
    response = operator_client.post(cluster_url, data)
    assert response.status_code == 302, form_errors(response)

    assert {q.team_id: q.max_partitions for q in TeamQuota.objects.all()} == {payments.pk: 300, None: 200}
    assert [e.via for e in AuditEvent.objects.filter(action="team_quota.create")] == [AuditEvent.Via.ADMIN] * 2


def test_a_service_accounts_quota_is_typed_on_its_page(operator_client, operator, cluster, payments):
    sa = ServiceAccount.objects.create(cluster=cluster, team=payments, name="billing", username="payments.billing",
                                       status=ResourceStatus.READY)
    url = reverse("admin:onboarding_serviceaccount_change", args=[sa.pk])
    data = {**changeform_data(operator_client.get(url)), "producer_byte_rate": "102400"}

    response = operator_client.post(url, data)

    assert response.status_code == 302, form_errors(response)
    sa.refresh_from_db()
    assert (sa.producer_byte_rate, sa.status, sa.generation) == (102400, ResourceStatus.PENDING, 2)
    assert AuditEvent.objects.get(action="service_account.quota").via == AuditEvent.Via.ADMIN
    too_small = operator_client.post(url, {**data, "consumer_byte_rate": "10"})
    assert "consumer_byte_rate" in form_errors(too_small)
