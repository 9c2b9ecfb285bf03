"""A payments topic with the lineage the page draws: a producer, a topic routed into it, a routed copy into a
private clinical topic, and a direct reader; plus `rita` of a third team, an outsider to both."""

import uuid
import xml.etree.ElementTree as ET

import pytest

from onboarding.models import AuditEvent, Membership, ServiceAccount, Subscription, Topic
from onboarding.services.subscriptions import subscription_request
from onboarding.services.teams import membership_set, team_create
from onboarding.services.topics import topic_create
from tests.fixtures.actors import _user

SVG = "{http://www.w3.org/2000/svg}"
VIA = AuditEvent.Via.SYSTEM


def account(cluster, team, name: str) -> ServiceAccount:
    return ServiceAccount.objects.create(cluster=cluster, team=team, name=name, username=f"{team.slug}.{name}")


def named(team_slug: str, stem: str) -> str:
    return f"{team_slug}.{stem}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def rita(db):
    """Owner of research: sees public topics only."""
    research = team_create(actor=None, slug="research", name="Research")
    user = _user("rita")
    membership_set(actor=None, team=research, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def lineage_world(cluster, payments, clinical, alice, carol):
    orders = topic_create(actor=alice, cluster=cluster, team=payments, name=named("payments", "orders"), partitions=1,
                          replication_factor=1)
    producer = account(cluster, payments, "app")
    clinical_reader = account(cluster, clinical, "reader")
    labs = topic_create(actor=carol, cluster=cluster, team=clinical, name=named("clinical", "labs"), partitions=1,
                        replication_factor=1)
    hidden = topic_create(actor=carol, cluster=cluster, team=clinical, name=named("clinical", "hidden"),
                          partitions=1, replication_factor=1, visibility=Topic.Visibility.PRIVATE)
    inbound = subscription_request(actor=alice, subscriber=payments, source=labs, service_account=producer,
                                   mode=Subscription.Mode.ROUTED, destination=orders, reason="Labs for us", via=VIA)
    routed = subscription_request(actor=carol, subscriber=clinical, source=orders, service_account=clinical_reader,
                                  mode=Subscription.Mode.ROUTED, destination=hidden, filter="value.amount > `10`",
                                  reason="Big orders", via=VIA)
    direct = subscription_request(actor=carol, subscriber=clinical, source=orders, service_account=clinical_reader,
                                  mode=Subscription.Mode.DIRECT, reason="Audit", via=VIA)
    return {"orders": orders, "producer": producer, "labs": labs, "hidden": hidden, "inbound": inbound,
            "routed": routed, "direct": direct, "clinical_reader": clinical_reader}


def svg_of(html: str) -> ET.Element:
    """The lineage picture of a page, parsed as XML (it must be well-formed SVG)."""
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    return ET.fromstring(html[start:end])


def svg_nodes(svg: ET.Element) -> dict[str, dict]:
    """key -> {kind, label, href} of every box."""
    nodes = {}
    for group in svg.iter(f"{SVG}g"):
        link = group.find(f"{SVG}a")
        texts = [t.text for t in group.iter(f"{SVG}text")]
        nodes[group.get("data-key")] = {"kind": group.get("data-kind"), "label": texts[0],
                                        "href": link.get("href") if link is not None else None}
    return nodes


def svg_edges(svg: ET.Element) -> set[tuple[str, str]]:
    return {(p.get("data-from"), p.get("data-to")) for p in svg.iter(f"{SVG}path") if p.get("data-from")}
