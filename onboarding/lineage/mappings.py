"""The mappings on a topic's lineage picture: source -> mapping -> canonical.

Upstream of a canonical topic: the live mappings writing into it (named with their source). Downstream of a
source topic: the live mappings of it (named with their canonical topic). A mapping is readable by its team and
the operators only, so anyone else sees "a mapping" without a link; a private source stays "a private topic".
"""

from __future__ import annotations

from django.urls import reverse

from onboarding.lineage.layout import LineageNode
from onboarding.lineage.names import PRIVATE
from onboarding.models import Mapping, Topic
from onboarding.permissions import is_operator, roles_of


def mapping_node(user, mapping: Mapping, other: Topic, relation: str, may_see) -> LineageNode:
    visible = is_operator(user) or mapping.team_id in roles_of(user)  # as mappings_visible_to, without a query
    far = other.name if may_see(user, other) else PRIVATE
    version = f" v{mapping.current_version.number}" if visible and mapping.current_version else ""
    return LineageNode(key=f"mapping-{mapping.pk}", label=f"mapping {mapping.mapping_id}" if visible else "a mapping",
                       kind="mapping", url=reverse("onboarding:mapping_detail", args=[mapping.pk]) if visible else "",
                       detail=f"{relation} {far}{version}", title=f"Mapping {relation} {far}")


def mapping_nodes(user, topic: Topic, mappings: list[Mapping], may_see) -> tuple[list[LineageNode], list[LineageNode]]:
    """(upstream, downstream) of ``topic``: the mappings into it and the mappings of it (``mappings``: the live
    ones of either side, selectors/topic_neighbours.py)."""
    upstream, downstream = [], []
    for m in mappings:
        if m.canonical_topic_id == topic.pk:
            upstream.append(mapping_node(user, m, m.source_topic, "of", may_see))
        if m.source_topic_id == topic.pk:
            downstream.append(mapping_node(user, m, m.canonical_topic, "into", may_see))
    return upstream, downstream
