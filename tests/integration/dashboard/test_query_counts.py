"""The dashboard and every tab of the topic page ask the database the same number of queries for a team of 10
topics as for one of 100: counts, not timings (scripts/bench/pages.py times them)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding.models import (
    ChangePolicy,
    ChangeRequest,
    OffsetReset,
    ResourceStatus,
    ServiceAccount,
    Subscription,
    Topic,
)
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


def _waiting_rows(cluster, payments, clinical, topic, carol, first: int, upto: int) -> None:
    """Rows numbered ``first`` to ``upto`` of each waiting kind, all asked by carol of payments (alice's team):
    subscription requests, offset resets and change requests."""
    for n in range(first, upto):
        account = ServiceAccount.objects.create(cluster=cluster, team=clinical, name=f"reader-{n}",
                                                username=f"clinical.reader-{n}")
        Subscription.objects.create(subscriber=clinical, source=topic, service_account=account, reason=f"n{n}",
                                    mode=Subscription.Mode.DIRECT, decision=Subscription.Decision.REQUESTED,
                                    requested_by=carol)
        OffsetReset.objects.create(cluster=cluster, team=clinical, group_id=f"clinical.g{n}", topic=topic,
                                   strategy=OffsetReset.Strategy.SHIFT, shift=-n - 1, reason="Replay",
                                   requested_by=carol)
        ChangeRequest.objects.create(cluster=cluster, team=payments, title=f"Change {n}", requested_by=carol,
                                     requested_via="api", expires_at=timezone.now() + timedelta(hours=1))


def test_the_waiting_sections_cost_the_same_queries_for_one_row_as_for_three(client_for, alice, carol, cluster,
                                                                            payments, clinical):
    """Each section loads only the columns its rows show: a column left out and then shown would cost a query
    per row, which this count would see."""
    ChangePolicy.objects.create(cluster=cluster, approvers=ChangePolicy.Approvers.OWNERS_OR_OPERATORS)
    topic = Topic.objects.create(cluster=cluster, team=payments, name="payments.waiting", partitions=1,
                                 replication_factor=1, collision_key="payments_waiting")
    owner, requester = client_for(alice), client_for(carol)
    _waiting_rows(cluster, payments, clinical, topic, carol, 0, 1)
    for client in (owner, requester):
        client.get(reverse("onboarding:home"))
    one = (_queries(owner, reverse("onboarding:home")), _queries(requester, reverse("onboarding:home")))

    _waiting_rows(cluster, payments, clinical, topic, carol, 1, 3)
    owners_page = owner.get(reverse("onboarding:home")).content.decode()
    assert owners_page.count('data-testid="waiting-reset-') == 3 and "a shift by -3" in owners_page
    assert owners_page.count('data-testid="waiting-change-') == 3 and "Change 2" in owners_page
    assert len(re.findall(r'data-testid="waiting-[0-9]+"', owners_page)) == 3  # the subscription requests
    requesters_page = requester.get(reverse("onboarding:home")).content.decode()
    assert requesters_page.count('data-testid="mine-') == 9
    assert (_queries(owner, reverse("onboarding:home")), _queries(requester, reverse("onboarding:home"))) == one
