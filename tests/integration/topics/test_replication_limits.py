"""A replication factor the cluster cannot do is neither offered nor accepted; a cluster that does not answer
falls back to its policy; a topic that never reached Kafka is deleted without a change request."""

import pytest
from django.urls import reverse

from onboarding.models import ChangeRequest, ResourceStatus, Topic, TopicPolicy
from onboarding.platform.cluster_size import broker_count
from onboarding.services.clusters import cluster_create
from onboarding.services.topics import replication_choices, topic_create, topic_create_errors, topic_delete
from tests.integration.admin.conftest import make_topic
from tests.integration.api.conftest import TOPICS, new_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_broker(cluster):
    # The stack's dev cluster is a single KRaft node; say so, so the test fails loudly if that ever changes.
    assert broker_count(cluster) == 1
    return cluster


@pytest.fixture
def silent_cluster(db):
    """A cluster whose bootstrap address answers nothing (the portal must not fail because of it)."""
    return cluster_create(actor=None, name="unreachable", environment="dev", bootstrap_servers="127.0.0.1:9",
                          reconcile_interval_seconds=5)


def _offered(html: str) -> list[str]:
    import re

    select = re.search(r'<select name="replication_factor".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="(\d+)"', select)


def test_the_form_offers_only_the_factors_the_brokers_allow(client_for, alice, one_broker):  # noqa: F811
    page = client_for(alice).get(reverse("onboarding:topic_create")).content.decode()

    assert TopicPolicy.objects.get(cluster=one_broker).allowed_replication_factors == [1, 3]
    assert _offered(page) == ["1"]
    assert "The cluster has 1 broker." in page


def test_the_api_refuses_a_factor_above_the_broker_count_on_the_field(api_as, alice, one_broker):  # noqa: F811
    answer = api_as(alice).post(TOPICS, {"cluster": one_broker.name, "team": "payments", "name": new_name(),
                                         "partitions": 1, "replication_factor": 3}, format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"]["replication_factor"] == [
        "This cluster has 1 broker: the replication factor can be at most 1."]
    assert not Topic.objects.exists()


def test_a_policy_default_above_the_broker_count_falls_to_what_fits(alice, payments, one_broker):
    TopicPolicy.objects.filter(cluster=one_broker).update(default_replication_factor=3)

    topic = topic_create(actor=alice, cluster=one_broker, team=payments, name=new_name(), partitions=1)

    assert topic.replication_factor == 1


def test_a_cluster_that_does_not_answer_falls_back_to_its_policy(client_for, alice, payments,  # noqa: F811
                                                                 silent_cluster):
    choices = replication_choices(silent_cluster)
    page = client_for(alice).get(reverse("onboarding:topic_create"), {"cluster": silent_cluster.pk})

    assert (choices.allowed, choices.brokers) == ([1, 3], None)
    assert page.status_code == 200
    assert _offered(page.content.decode()) == ["1", "3"]
    assert topic_create_errors(cluster=silent_cluster, team=payments, name=new_name(), partitions=1,
                               replication_factor=3, configs={}) == {}


def test_a_topic_that_never_reached_kafka_is_deleted_without_a_change_request(cluster, payments, alice, gated):
    gated(cluster, "topic.delete")
    failed = make_topic(cluster, payments, name="payments.never", status=ResourceStatus.FAILED, generation=1,
                        observed_generation=0, ready_at=None, last_error="Kafka refused: replication factor 3")
    applied = make_topic(cluster, payments, name="payments.orders")

    deleted = topic_delete(actor=alice, topic=failed, confirm_name=failed.name)
    gated_delete = topic_delete(actor=alice, topic=applied, confirm_name=applied.name)

    assert isinstance(deleted, Topic) and deleted.status == ResourceStatus.DELETING
    assert isinstance(gated_delete, ChangeRequest)
