"""A team's quota on a cluster (topics, partitions, disk): a change that would pass it is refused with the numbers,
the same words in the API and beside the form's field; a batch counts as a whole; growing a topic counts; the
team's override wins over the cluster's default; the team page shows usage against quota."""

from html import unescape

import pytest
from django.urls import reverse

from onboarding.errors import ValidationError
from onboarding.models import ResourceStatus, Topic
from onboarding.models.clusters import TeamQuota
from onboarding.services.topics import topic_update
from onboarding.services.topics_bulk import TopicRequest, topics_create_many
from tests.integration.views.test_topic_forms import create_data, errors_of

pytestmark = pytest.mark.django_db

AT_QUOTA = "This would exceed your team's quota of 200 partitions (you use 190)."


@pytest.fixture
def near_quota(cluster, payments):
    """The cluster's default quota is 200 partitions; payments holds 190 in ten topics of 19."""
    TeamQuota.objects.create(cluster=cluster, max_partitions=200)
    for n in range(10):
        Topic.objects.create(cluster=cluster, team=payments, name=f"payments.held-{n}", partitions=19,
                             replication_factor=1, configs={"retention.bytes": "1048576"},
                             status=ResourceStatus.READY)
    return payments


def test_the_api_refuses_a_topic_past_the_partition_quota_with_the_numbers(api_as, alice, cluster, near_quota):
    answer = api_as(alice).post("/api/v1/topics/", {"cluster": "local", "team": "payments", "name": "payments.more",
                                                    "partitions": 12, "replication_factor": 1}, format="json")

    assert answer.status_code == 400, answer.content
    assert answer.json() == {"errors": {"partitions": [AT_QUOTA]}}
    fits = api_as(alice).post("/api/v1/topics/", {"cluster": "local", "team": "payments", "name": "payments.fits",
                                                  "partitions": 10, "replication_factor": 1}, format="json")
    assert fits.status_code == 201, fits.content


def test_the_form_shows_the_same_message_beside_partitions(client_for, alice, cluster, near_quota):
    response = client_for(alice).post(reverse("onboarding:topic_create"),
                                      create_data(cluster, near_quota, name="payments.more", partitions="12"))

    assert response.status_code == 400
    assert errors_of(unescape(response.content.decode()), "partitions") == [AT_QUOTA]
    assert not Topic.objects.filter(name="payments.more").exists()


def test_a_batch_counts_as_a_whole_and_growing_a_topic_counts(alice, cluster, near_quota):
    with pytest.raises(ValidationError) as refused:
        topics_create_many(actor=alice, cluster=cluster, team=near_quota,
                           requests=[TopicRequest(name=f"payments.b-{n}", partitions=4, replication_factor=1)
                                     for n in range(3)])
    assert refused.value.message_dict == {"topics": [AT_QUOTA]}

    for name in ("payments.held-0", "payments.held-1"):  # 190 + 5 + 5: exactly the quota
        assert topic_update(actor=alice, topic=Topic.objects.get(name=name), partitions=24).partitions == 24
    with pytest.raises(ValidationError) as grown:
        topic_update(actor=alice, topic=Topic.objects.get(name="payments.held-2"), partitions=20)
    assert grown.value.message_dict == {"partitions": [
        "This would exceed your team's quota of 200 partitions (you use 200)."]}


def test_the_teams_override_wins_and_topics_and_disk_have_their_own_limits(alice, client_for, cluster, near_quota):
    TeamQuota.objects.create(cluster=cluster, team=near_quota, max_partitions=400, max_topics=11,
                             max_disk_bytes=300 * 1024 * 1024)
    answer = client_for(alice).post(reverse("onboarding:topic_create"), create_data(
        cluster, near_quota, name="payments.big", partitions="12", cfg_retention_bytes="104857600"))
    html = unescape(answer.content.decode())
    # 190 partitions x 1 MiB held; 12 x 100 MiB more would pass 300 MiB. Partitions fit the team's 400.
    assert errors_of(html, "partitions") == [
        "This would exceed your team's quota of 300 MiB of disk (you use 190 MiB)."]

    assert client_for(alice).post(reverse("onboarding:topic_create"), create_data(
        cluster, near_quota, name="payments.small", partitions="1", cfg_retention_bytes="1048576")).status_code == 302
    refused = client_for(alice).post(reverse("onboarding:topic_create"), create_data(
        cluster, near_quota, name="payments.one-more", partitions="1", cfg_retention_bytes="1048576")).content.decode()
    refused = unescape(refused)
    assert errors_of(refused, "name") == ["This would exceed your team's quota of 11 topics (you use 11)."]


def test_a_topic_without_a_byte_limit_counts_as_the_policys_largest(alice, cluster, near_quota):
    from onboarding.services import team_quotas
    from onboarding.services.topic_policy import policy_for

    policy = policy_for(cluster)
    policy.config_rules = {**policy.config_rules, "retention.bytes": {"min": -1, "max": 10 * 1024 ** 3}}
    policy.save()
    limits = team_quotas.limits_for(cluster, near_quota)
    assert team_quotas.topic_disk_bytes(3, {"retention.bytes": "-1"}, policy, limits) == 30 * 1024 ** 3
    assert team_quotas.topic_disk_bytes(3, {}, policy, limits) == 30 * 1024 ** 3


def test_the_team_page_shows_usage_against_quota(client_for, alice, cluster, near_quota):
    page = client_for(alice).get(reverse("onboarding:team_detail", args=["payments"])).content.decode()

    assert 'data-testid="quota-local"' in page
    assert "190 of 200" in page
