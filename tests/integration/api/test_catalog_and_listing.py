"""Reading: clusters with their policies, the topic list's filters and pages, the topic's fields."""

import pytest

from onboarding.models import ResourceStatus, Topic
from onboarding.services.clusters import cluster_create
from tests.integration.api.conftest import TOPICS, new_name, topic_url

pytestmark = pytest.mark.django_db

TOPIC_FIELDS = {"id", "url", "cluster", "team", "name", "partitions", "replication_factor", "configs", "description",
                "tags", "visibility", "subscriptions_need_approval", "status", "generation", "observed_generation",
                "last_error", "drift", "drift_reaction", "created_at", "updated_at", "ready_at"}


def test_clusters_show_their_policy_limits_and_never_connection_secrets(api_as, alice, cluster):
    cluster.sasl_password_ref = "env:LOCAL_KAFKA_PASSWORD"
    cluster.save()

    answer = api_as(alice).get("/api/v1/clusters/")

    [shown] = answer.json()["results"]
    assert set(shown) == {"id", "url", "name", "environment", "order", "registry_url", "is_active", "topic_policy"}
    assert (shown["name"], shown["environment"], shown["order"]) == ("local", "dev", 0)
    policy = shown["topic_policy"]
    assert policy["name_pattern"] == r"^{team}\.[a-z0-9][a-z0-9._-]*$"
    limits = (policy["min_partitions"], policy["max_partitions"], policy["allowed_replication_factors"])
    assert limits == (1, 24, [1, 3])
    assert policy["config_rules"]["cleanup.policy"] == {"choices": ["delete", "compact", "compact,delete"]}
    assert "LOCAL_KAFKA_PASSWORD" not in answer.content.decode()
    assert api_as(alice).get(f"/api/v1/clusters/{cluster.pk}/").json() == shown


def test_a_topic_carries_every_documented_field(api_as, alice, payments_topic):
    topic = payments_topic(configs={"retention.ms": 3600000}, tags=["orders"], description="Orders placed.")

    shown = api_as(alice).get(topic_url(topic)).json()

    assert set(shown) == TOPIC_FIELDS
    assert shown["url"] == f"http://testserver{topic_url(topic)}"
    assert (shown["cluster"], shown["team"], shown["name"]) == ("local", "payments", topic.name)
    assert shown["configs"] == {"retention.ms": "3600000"}
    assert (shown["status"], shown["generation"], shown["observed_generation"]) == ("pending", 1, 0)
    assert shown["drift"] is None and shown["ready_at"] is None


def test_the_topic_list_filters_by_team_cluster_status_tag_visibility_and_text(api_as, alice, carol, payments_topic,
                                                                               clinical, cluster):
    from onboarding.services.topics import topic_create

    orders = payments_topic(name="payments.orders", tags=["orders"], description="Every order placed.")
    refunds = payments_topic(name="payments.refunds", tags=["refunds"], visibility="private")
    audit = payments_topic(name="payments.audit", description="Who refunded which order.")
    clinical_topic = topic_create(actor=carol, cluster=cluster, team=clinical, name="clinical.admissions")
    Topic.objects.filter(pk=refunds.pk).update(status=ResourceStatus.READY)
    client = api_as(alice)

    def names(query=""):
        answer = client.get(f"{TOPICS}{query}")
        assert answer.status_code == 200, answer.content
        return [t["name"] for t in answer.json()["results"]]

    assert names() == ["clinical.admissions", "payments.audit", "payments.orders", "payments.refunds"]
    assert names("?team=payments") == [audit.name, orders.name, refunds.name]
    assert names("?cluster=local&team=clinical") == [clinical_topic.name]
    assert names("?cluster=elsewhere") == []
    assert names("?status=ready") == [refunds.name]
    assert names("?tag=orders") == [orders.name]
    assert names("?visibility=private") == [refunds.name]
    assert names("?q=ORDER") == [audit.name, orders.name]
    assert names("?q=order refund") == [audit.name]


def test_deleted_topics_are_listed_only_when_asked_for(api_as, alice, payments_topic):
    live, gone = payments_topic(), payments_topic()
    Topic.objects.filter(pk=gone.pk).update(status=ResourceStatus.DELETED)
    client = api_as(alice)

    assert [t["name"] for t in client.get(TOPICS).json()["results"]] == [live.name]
    assert [t["name"] for t in client.get(f"{TOPICS}?status=deleted").json()["results"]] == [gone.name]
    assert client.get(topic_url(gone)).json()["status"] == "deleted"


def test_the_topic_list_is_paged(api_as, alice, payments_topic):
    created = sorted(payments_topic(name=f"payments.page-{i}").name for i in range(5))
    client = api_as(alice)

    first = client.get(f"{TOPICS}?page_size=2").json()
    last = client.get(f"{TOPICS}?page_size=2&page=3").json()
    capped = client.get(f"{TOPICS}?page_size=100000")

    assert first["count"] == 5
    assert [t["name"] for t in first["results"]] == created[:2]
    assert first["next"].endswith("page=2&page_size=2")
    assert [t["name"] for t in last["results"]] == created[4:]
    assert capped.status_code == 200 and len(capped.json()["results"]) == 5
    assert client.get(f"{TOPICS}?page=9").status_code == 404


def test_attempts_of_a_topic_without_any_are_an_empty_list(api_as, alice, payments_topic):
    topic = payments_topic()

    assert api_as(alice).get(f"{topic_url(topic)}attempts/").json() == []
    assert api_as(alice).get(f"{topic_url(topic)}attempts/?limit=0").status_code == 400


def test_creating_answers_201_with_location_etag_and_a_pending_topic(api_as, alice, cluster):
    name = new_name()

    answer = api_as(alice).post(TOPICS, {"cluster": "local", "team": "payments", "name": name}, format="json")

    assert answer.status_code == 201, answer.content
    shown = answer.json()
    assert answer["Location"] == shown["url"]
    assert answer["ETag"] == '"1"'
    # Omitted fields take the cluster's policy defaults.
    assert (shown["partitions"], shown["replication_factor"], shown["visibility"]) == (3, 1, "public")
    assert shown["status"] == "pending"


def test_an_unreachable_cluster_is_a_503_that_says_so(api_as, operator, settings):
    settings.KAFKA_ADMIN_TIMEOUT_SECONDS = 2
    nowhere = cluster_create(actor=None, name="nowhere", environment="dev", bootstrap_servers="127.0.0.1:1")

    answer = api_as(operator).get(f"/api/v1/clusters/{nowhere.pk}/unmanaged-topics/")

    assert answer.status_code == 503
    assert answer.json()["detail"].startswith("The cluster did not answer:")
    assert answer.json()["retryable"] is True


def test_options_describes_an_endpoint_without_failing(api_as, alice, payments_topic):
    client = api_as(alice)

    assert client.options(TOPICS).status_code == 200
    assert client.options(topic_url(payments_topic())).status_code == 200
