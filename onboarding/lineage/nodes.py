"""The nodes of a topic's lineage picture, as the viewer may see them.

Upstream: the owning team's producers and the topics routed into this one. Downstream: the topics this
one is routed into and the teams reading it directly. A topic the viewer may not see (private, of another
team) appears as "a private topic", without its name or a link; direct readers are shown to the topic's
team and to the reading team only, as the subscribers table is.
"""

from __future__ import annotations

from django.urls import reverse

from onboarding.lineage.layout import LineageLayout, LineageNode, layout_lineage
from onboarding.models import Subscription, Topic
from onboarding.permissions import can_read_team
from onboarding.selectors.classification import classification_of

PRIVATE = "a private topic"


def may_see(user, topic: Topic) -> bool:
    return topic.visibility == Topic.Visibility.PUBLIC or can_read_team(user, topic.team)


def topic_node(user, topic: Topic, key: str, detail: str = "") -> LineageNode:
    if not may_see(user, topic):
        return LineageNode(key=key, label=PRIVATE, kind="private", detail="of another team",
                           title="A private topic of another team")
    return LineageNode(key=key, label=topic.name, kind="topic", url=reverse("onboarding:topic_detail", args=[topic.pk]),
                       detail=detail or f"team {topic.team.slug}", title=topic.name)


def lineage_of(user, topic: Topic, *, producers, sources: list[Subscription], readers: list[Subscription]
               ) -> LineageLayout:
    insider = can_read_team(user, topic.team)
    upstream = [LineageNode(key=f"producer-{sa.pk}", label=sa.principal, kind="producer",
                            url=reverse("onboarding:service_accounts", args=[topic.team.slug]) if insider else "",
                            detail=f"producer · {sa.status}", title=f"{sa.principal} may write to this topic")
                for sa in producers]
    # Classification follows data: what the copies carry from their sources is named on the picture too.
    carried: dict[int, set[str]] = {}
    for tag in (classification_of(topic) if sources else []):
        if tag.inherited:
            carried.setdefault(tag.source.pk, set()).add(tag.classification.upper())
    seen: set[int] = set()
    for sub in sources:
        if sub.source_id not in seen:
            seen.add(sub.source_id)
            words = ", ".join(sorted(carried.get(sub.source_id, ())))
            upstream.append(topic_node(user, sub.source, f"source-{sub.source_id}",
                                       detail=f"routed in · {words}" if words else "routed into this topic"))
    downstream, labels = [], {}
    for sub in readers:
        if sub.mode == Subscription.Mode.ROUTED and sub.destination is not None:
            node = topic_node(user, sub.destination, f"route-{sub.pk}", detail=f"routed for {sub.subscriber.slug}")
            if node.kind == "topic" and sub.filter:
                labels[node.key] = sub.filter
            downstream.append(node)
        elif sub.mode == Subscription.Mode.DIRECT and (insider or can_read_team(user, sub.subscriber)):
            downstream.append(LineageNode(
                key=f"reader-{sub.pk}", label=sub.service_account.principal, kind="reader",
                url=reverse("onboarding:subscription_detail", args=[sub.pk]),
                detail=f"direct reader · team {sub.subscriber.slug}", title=f"{sub.subscriber.slug} reads directly"))
    inherited = ", ".join(sorted(set().union(*carried.values()))) if carried else ""
    center = LineageNode(key=f"topic-{topic.pk}", label=topic.name, kind="center",
                         url=reverse("onboarding:topic_detail", args=[topic.pk]),
                         detail=f"team {topic.team.slug}" + (f" · {inherited} inherited" if inherited else ""),
                         title=topic.name)
    return layout_lineage(upstream, center, downstream, edge_labels=labels)
