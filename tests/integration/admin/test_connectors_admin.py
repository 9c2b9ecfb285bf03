"""Connectors in the admin: the pages render, operators set a cluster's Connect URL and allowed classes through
the cluster service (audited), and the delete action goes through the connector service."""

import pytest
from django.urls import reverse

from onboarding.models import AuditEvent, Cluster, Connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector(cluster, payments):
    return Connector.objects.create(cluster=cluster, team=payments, name="orders-store",
                                    connector_class="com.mongodb.kafka.connect.MongoSinkConnector",
                                    config={"topics": "payments.orders"}, secret_refs={"connection.uri": "env:MONGO"},
                                    connector_state="RUNNING", task_states=[{"id": 0, "state": "RUNNING"}])


def test_the_connector_pages_render(operator_client, connector):
    listed = operator_client.get(reverse("admin:onboarding_connector_changelist"))
    assert listed.status_code == 200 and listed.context["cl"].result_count == 1
    page = operator_client.get(reverse("admin:onboarding_connector_change", args=[connector.pk]))
    assert page.status_code == 200
    assert b"env:MONGO" in page.content


def test_the_delete_action_goes_through_the_service(operator_client, connector):
    answer = operator_client.post(reverse("admin:onboarding_connector_changelist"),
                                  {"action": "delete_connectors", "_selected_action": [connector.pk]})
    assert answer.status_code == 302
    assert Connector.objects.get(pk=connector.pk).status == "deleting"
    assert AuditEvent.objects.filter(action="connector.delete", via="admin").exists()


def test_operators_set_the_clusters_connect_worker_and_classes(operator_client, cluster):
    url = reverse("admin:onboarding_cluster_change", args=[cluster.pk])
    form = operator_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"connect_url": "http://connect.example:8083",
                 "connect_allowed_classes": "com.mongodb.kafka.connect.MongoSinkConnector",
                 "topic_policy-TOTAL_FORMS": "0", "topic_policy-INITIAL_FORMS": "0",
                 "change_policy-TOTAL_FORMS": "0", "change_policy-INITIAL_FORMS": "0",
                 "team_quotas-TOTAL_FORMS": "0", "team_quotas-INITIAL_FORMS": "0"})
    answer = operator_client.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
    cluster = Cluster.objects.get(pk=cluster.pk)
    assert cluster.connect_url == "http://connect.example:8083"
    assert cluster.connect_allowed_classes == ["com.mongodb.kafka.connect.MongoSinkConnector"]
