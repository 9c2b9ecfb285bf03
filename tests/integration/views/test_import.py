"""Importing topics that already exist on the real broker; an unreachable cluster is explained."""

import uuid

import pytest
from confluent_kafka.admin import NewTopic
from django.urls import reverse

from onboarding.models import Topic
from onboarding.services.clusters import cluster_create
from tests.integration.views.htmx import htmx_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def existing_topics(kafka_admin):
    """Two topics created on the broker behind the portal's back; removed afterwards."""
    names = [f"payments.legacy{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for future in kafka_admin.create_topics([NewTopic(n, num_partitions=2, replication_factor=1,
                                                      config={"retention.ms": "7200000"}) for n in names]).values():
        future.result(30)
    yield names
    for future in kafka_admin.delete_topics(names, operation_timeout=30).values():
        future.result(30)


def test_an_operator_sees_unmanaged_topics_and_imports_them(client_for, operator, cluster, payments,
                                                            existing_topics):
    client = client_for(operator)

    # The broker is shared: filter by the test's own prefix, as a person would among many topics.
    page = client.get(reverse("onboarding:import") + f"?cluster={cluster.pk}&q=payments.legacy").content.decode()
    response = client.post(reverse("onboarding:import"), {"cluster": cluster.pk, "team": payments.pk,
                                                          "names": existing_topics})

    assert all(name in page for name in existing_topics)
    assert response.status_code == 302
    imported = Topic.objects.get(name=existing_topics[0])
    assert (imported.team, imported.partitions, imported.configs["retention.ms"]) == (payments, 2, "7200000")
    after = client.get(reverse("onboarding:import") + "?q=" + existing_topics[0]).content.decode()
    assert f'name="names" value="{existing_topics[0]}"' not in after


def test_the_filter_swaps_only_the_list(client_for, operator, cluster, existing_topics):
    response = client_for(operator).get(reverse("onboarding:import") + f"?cluster={cluster.pk}&q={existing_topics[1]}",
                                        **htmx_to("import-list"))

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="import-list"')
    assert f'name="names" value="{existing_topics[1]}"' in html
    assert f'name="names" value="{existing_topics[0]}"' not in html


def test_importing_nothing_is_a_form_error(client_for, operator, cluster, payments):
    response = client_for(operator).post(reverse("onboarding:import"), {"cluster": cluster.pk, "team": payments.pk})

    assert response.status_code == 400
    assert "Choose at least one topic to import." in response.content.decode()


def test_an_unreachable_cluster_shows_the_platform_error(client_for, operator, payments):
    broken = cluster_create(actor=None, name="broken", environment="dev", bootstrap_servers="127.0.0.1:1",
                            security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                            sasl_username_ref="env:PORTAL_TEST_NO_SUCH_USER",
                            sasl_password_ref="env:PORTAL_TEST_NO_SUCH_PASSWORD")
    client = client_for(operator)

    page = client.get(reverse("onboarding:import") + f"?cluster={broken.pk}")
    post = client.post(reverse("onboarding:import"), {"cluster": broken.pk, "team": payments.pk, "names": ["x"]})

    assert page.status_code == 200
    assert "PORTAL_TEST_NO_SUCH_USER holding a cluster secret is not set" in page.content.decode()
    assert post.status_code == 503
    assert "PORTAL_TEST_NO_SUCH_USER" in post.content.decode()
