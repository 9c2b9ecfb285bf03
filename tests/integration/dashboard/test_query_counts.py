"""The dashboard and every tab of the topic page ask the database the same number of queries for a team of 10
topics as for one of 100: counts, not timings (scripts/bench/pages.py times them)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onboarding.models import ResourceStatus, Topic
from onboarding.views.topic_tabs import TAB_NAMES

pytestmark = pytest.mark.django_db


def _grow(team, cluster, upto: int) -> None:
    """Topics of ``team`` in several states, written in bulk (the services' path is not what is measured)."""
    have = Topic.objects.filter(team=team).count()
    states = [ResourceStatus.READY, ResourceStatus.PENDING, ResourceStatus.FAILED, ResourceStatus.DRIFTED]
    Topic.objects.bulk_create([Topic(cluster=cluster, team=team, name=f"{team.slug}.t{n:04d}", partitions=1,
                                     collision_key=f"{team.slug}_t{n:04d}",
                                     replication_factor=1, status=states[n % 4], last_error="x" * (n % 3))
                               for n in range(have, upto)])


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_dashboard_and_topic_tabs_keep_their_query_count_as_the_team_grows(client_for, alice, cluster,
                                                                             payments):
    client = client_for(alice)
    _grow(payments, cluster, 10)
    topic = Topic.objects.filter(team=payments).order_by("pk").first()
    urls = [reverse("onboarding:home")] + [f"{reverse('onboarding:topic_detail', args=[topic.pk])}?tab={tab}"
                                          for tab in sorted(TAB_NAMES)]
    for url in urls:
        client.get(url)  # warm the per-process caches (sessions, content types) out of the count
    small = {url: _queries(client, url) for url in urls}

    _grow(payments, cluster, 100)
    large = {url: _queries(client, url) for url in urls}

    assert large == small
