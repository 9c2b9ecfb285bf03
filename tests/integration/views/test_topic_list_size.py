"""The topic list's page size (?page_size=) and its constant number of queries whatever that size."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onboarding.models import Topic
from tests.integration.views.test_topic_pages import listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(cluster, payments, clinical):
    """130 payments topics (every third one private) and 10 private clinical ones. Inserted in bulk: the list
    only reads them, and 140 registrations through the services would make these tests slow."""
    rows = [Topic(cluster=cluster, team=payments, name=f"payments.t{i:03d}", partitions=1, replication_factor=1,
                  description=f"Payments stream {i}", tags=["cards"] if i % 2 else [],
                  visibility=Topic.Visibility.PRIVATE if i % 3 == 0 else Topic.Visibility.PUBLIC)
            for i in range(130)]
    rows += [Topic(cluster=cluster, team=clinical, name=f"clinical.t{i:02d}", partitions=1, replication_factor=1,
                   visibility=Topic.Visibility.PRIVATE) for i in range(10)]
    for row in rows:
        row.collision_key = row.name.replace(".", "_")
    return Topic.objects.bulk_create(rows)


def topics_page(client, **params):
    return client.get(reverse("onboarding:topic_list"), params)


@pytest.mark.parametrize("asked, shown", [("10", 10), ("100", 100), ("5000", 100), ("0", 25), ("-3", 25),
                                          ("ten", 25), ("", 25)])
def test_the_page_size_is_chosen_capped_and_bad_values_fall_back_to_the_default(client_for, bob, crowd, asked,
                                                                                shown):
    response = topics_page(client_for(bob), page_size=asked)

    assert response.status_code == 200
    assert len(listed(response)) == shown


def test_the_pager_keeps_the_chosen_page_size(client_for, bob, crowd):
    client = client_for(bob)

    first = topics_page(client, page_size="50")
    second = topics_page(client, page_size="50", page="2")

    assert re.search(r'href="\?page_size=50&amp;page=2"', first.content.decode())
    assert listed(second) == [f"payments.t{i:03d}" for i in range(50, 100)]
    assert 'name="page_size" value="50"' in first.content.decode()  # filtering keeps it too


def test_a_member_sees_public_and_own_topics_only_at_any_page_size(client_for, carol, cluster, crowd):
    response = topics_page(client_for(carol), page_size="100")
    names, html = listed(response), response.content.decode()

    assert len(names) == 96 and names[:10] == [f"clinical.t{i:02d}" for i in range(10)]
    assert not any(name.endswith(("t000", "t003", "t099")) for name in names)  # payments' private ones
    assert "<td>clinical</td>" in html and "<td>payments</td>" in html and f"<td>{cluster.name}</td>" in html


@pytest.mark.parametrize("who", ["operator", "bob"])
@pytest.mark.parametrize("params", [{}, {"team": "payments"}, {"q": "stream"}, {"status": "pending"},
                                    {"tag": "cards"}])
def test_the_list_issues_the_same_queries_for_10_or_100_rows(request, client_for, crowd, who, params):
    client = client_for(request.getfixturevalue(who))
    counts = []
    for size in ("10", "100"):
        with CaptureQueriesContext(connection) as captured:
            response = topics_page(client, page_size=size, **params)
        assert len(listed(response)) == min(int(size), response.context["page"].paginator.count)
        counts.append(len(captured))

    assert counts[0] == counts[1]


def test_the_team_and_cluster_filters_offer_and_keep_their_choice(client_for, bob, cluster, crowd):
    response = topics_page(client_for(bob), team="payments", cluster=cluster.name)
    html = response.content.decode()

    assert response.context["page"].paginator.count == 130
    assert '<option value="payments" selected>payments</option>' in html
    assert f'<option value="{cluster.name}" selected>{cluster.name} (dev)</option>' in html
    assert '<option value="clinical">clinical</option>' in html


def test_a_long_description_is_cut_with_an_ellipsis(client_for, bob, cluster, payments):
    words = "Card payments settled by the acquirer, " * 6
    Topic.objects.create(cluster=cluster, team=payments, name="payments.long", collision_key="payments_long",
                         partitions=1, replication_factor=1, description=words)
    Topic.objects.create(cluster=cluster, team=payments, name="payments.short", collision_key="payments_short",
                         partitions=1, replication_factor=1, description="Card payments")

    html = topics_page(client_for(bob)).content.decode()

    assert f'<div class="muted small clip">{words[:109]}…</div>' in html
    assert '<div class="muted small clip">Card payments</div>' in html
