"""The nodes of a topic's lineage picture, as the viewer may see them.

Upstream: the owning team's producers, the topics routed into this one and the aggregation whose results it holds
(named with its source). Downstream: the topics this one is routed into, the aggregations of it (named with
their output topic) and the teams reading it directly. A topic the viewer may not see (private, of another
team) appears as "a private topic", without its name or a link; direct readers are shown to the topic's
team and to the reading team only, as the subscribers table is.
"""

from __future__ import annotations

from django.urls import reverse

from onboarding.lineage.layout import LineageLayout, LineageNode, layout_lineage
from onboarding.lineage.mappings import mapping_nodes
from onboarding.lineage.names import PRIVATE
from onboarding.models import Aggregation, ResourceStatus, Subscription, Topic
from onboarding.permissions import can_read_team, is_operator, roles_of
from onboarding.selectors.classification import classification_of
from onboarding.selectors.topic_neighbours import TopicNeighbours


def may_see(user, topic: Topic) -> bool:
    return topic.visibility == Topic.Visibility.PUBLIC or can_read_team(user, topic.team)


def topic_node(user, topic: Topic, key: str, detail: str = "") -> LineageNode:
    if not may_see(user, topic):
        return LineageNode(key=key, label=PRIVATE, kind="private", detail="of another team",
                           title="A private topic of another team")
    return LineageNode(key=key, label=topic.name, kind="topic", url=reverse("onboarding:topic_detail", args=[topic.pk]),
                       detail=detail or f"team {topic.team.slug}", title=topic.name)


def aggregation_node(user, agg: Aggregation, key: str, other: Topic | None, relation: str) -> LineageNode:
    """An aggregation between two topics; ``other`` is the topic on its far side (its source or its output),
    named only when the viewer may see it. Another team's aggregation the viewer may not open has no link."""
    visible = may_open_aggregation(user, agg)
    far = other.name if other is not None and may_see(user, other) else PRIVATE
    deleted = " (deleted)" if agg.status == ResourceStatus.DELETED else ""
    url = reverse("onboarding:aggregation_detail", args=[agg.pk]) if visible else ""
    return LineageNode(key=key, label=f"aggregation {agg.definition_id}" if visible else "an aggregation",
                       kind="aggregation", url=url, detail=f"{relation} {far}{deleted}",
                       title=f"Aggregation {relation} {far}{deleted}")


def may_open_aggregation(user, agg: Aggregation) -> bool:
    """What ``aggregations_visible_to`` answers for one aggregation, from its loaded team and source: the picture
    asks it of every aggregation it draws, so it must not cost a query each."""
    return (is_operator(user) or agg.team_id in roles_of(user)
            or agg.source.visibility == Topic.Visibility.PUBLIC)


def aggregation_nodes(user, topic: Topic, near: list[Aggregation]) -> tuple[list[LineageNode], list[LineageNode]]:
    """(upstream, downstream): the aggregation that produced this topic (the latest, also once deleted: its
    results stay here), and the live aggregations of it. ``near``: both kinds (selectors/topic_neighbours.py)."""
    producer, downstream = None, []
    for agg in near:
        if agg.output_id == topic.pk and (producer is None or agg.pk > producer.pk):
            producer = agg
        if agg.source_id == topic.pk and agg.status != ResourceStatus.DELETED:
            downstream.append(aggregation_node(user, agg, f"aggregation-{agg.pk}",
                                               agg.output or _named(agg.cluster_id, agg.output_topic), "into"))
    upstream = ([aggregation_node(user, producer, f"aggregation-{producer.pk}", producer.source, "of")]
                if producer else [])
    return upstream, downstream


def _named(cluster_id: int, name: str) -> Topic | None:
    return Topic.objects.filter(cluster_id=cluster_id, name=name).exclude(status=ResourceStatus.DELETED).first()


def lineage_of(user, topic: Topic, around: TopicNeighbours) -> LineageLayout:
    producers, sources, readers = around.producers, around.sources, around.readers
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
    made_by, aggregated_into = aggregation_nodes(user, topic, around.aggregations)
    mapped_from, mapped_into = mapping_nodes(user, topic, around.mappings, may_see)
    upstream.extend(made_by + mapped_from)
    downstream, labels = list(aggregated_into) + mapped_into, {}
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
