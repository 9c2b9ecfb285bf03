"""The topic page: owner and contacts, producers, subscribers, routed destinations and the lineage picture."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onboarding.models import Subscription
from tests.integration.lineage.conftest import account, svg_edges, svg_nodes, svg_of

pytestmark = pytest.mark.django_db


def topic_page(client, topic, tab: str = "overview") -> str:
    response = client.get(reverse("onboarding:topic_detail", args=[topic.pk]) + f"?tab={tab}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_sees_producers_subscribers_routes_and_the_lineage(client_for, alice, lineage_world):
    world = lineage_world
    orders, hidden = world["orders"], world["hidden"]

    html = topic_page(client_for(alice), orders)
    access = topic_page(client_for(alice), orders, "access")

    assert 'data-testid="owner-team">Payments' in html and "payments@example.org" in html
    assert 'data-principal="User:payments.app"' in access  # the team's service account may write (prefix ACL)
    assert "clinical.reader" in access.split('data-testid="subscribers"')[1].split("</section>")[0]
    routes = access.split('data-testid="routes"')[1].split("</section>")[0]
    assert "value.amount &gt; `10`" in routes and "a private topic" in routes and hidden.name not in routes

    svg = svg_of(html)
    nodes = svg_nodes(svg)
    center = f"topic-{orders.pk}"
    assert nodes[center]["label"] == orders.name and nodes[center]["kind"] == "center"
    assert nodes[f"producer-{world['producer'].pk}"]["label"] == "User:payments.app"
    assert nodes[f"source-{world['labs'].pk}"] == {
        "kind": "topic", "label": world["labs"].name,
        "href": reverse("onboarding:topic_detail", args=[world["labs"].pk])}
    assert nodes[f"route-{world['routed'].pk}"] == {"kind": "private", "label": "a private topic", "href": None}
    assert nodes[f"reader-{world['direct'].pk}"]["href"] == reverse("onboarding:subscription_detail",
                                                                    args=[world["direct"].pk])
    assert svg_edges(svg) == {(f"producer-{world['producer'].pk}", center), (f"source-{world['labs'].pk}", center),
                              (center, f"route-{world['routed'].pk}"), (center, f"reader-{world['direct'].pk}")}
    assert hidden.name not in html.split("<svg")[1].split("</svg>")[0]


def test_the_reading_team_sees_its_own_private_destination_and_reader(client_for, carol, lineage_world):
    world = lineage_world

    nodes = svg_nodes(svg_of(topic_page(client_for(carol), world["orders"])))

    assert nodes[f"route-{world['routed'].pk}"]["label"] == world["hidden"].name
    assert f"reader-{world['direct'].pk}" in nodes
    assert nodes[f"producer-{world['producer'].pk}"]["href"] is None  # another team's accounts page is not hers


def test_an_outsider_sees_no_private_names_and_no_readers_of_other_teams(client_for, rita, lineage_world):
    world = lineage_world

    html = topic_page(client_for(rita), world["orders"])

    nodes = svg_nodes(svg_of(html))
    assert nodes[f"route-{world['routed'].pk}"] == {"kind": "private", "label": "a private topic", "href": None}
    assert not any(key.startswith("reader-") for key in nodes)
    assert world["hidden"].name not in html and "clinical.reader" not in html
    access = topic_page(client_for(rita), world["orders"], "access")
    assert 'data-testid="subscribers"' not in access and 'data-testid="routes"' not in access
    assert world["hidden"].name not in access and "clinical.reader" not in access


def test_the_page_costs_the_same_queries_for_one_and_ten_subscriptions(client_for, alice, cluster, clinical,
                                                                     lineage_world):
    world = lineage_world
    client = client_for(alice)
    topic_page(client, world["orders"])  # warm the session and caches

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as overview:
            topic_page(client, world["orders"])
        with CaptureQueriesContext(connection) as access:
            topic_page(client, world["orders"], "access")
        return len(overview), len(access)

    few = count()
    for i in range(9):
        Subscription.objects.create(subscriber=clinical, source=world["orders"], mode=Subscription.Mode.DIRECT,
                                    service_account=account(cluster, clinical, f"r{i}"), reason="more",
                                    decision=Subscription.Decision.APPROVED)
    assert world["orders"].subscriptions.count() == 11
    assert count() == few
