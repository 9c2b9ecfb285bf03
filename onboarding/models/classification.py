"""Classification follows data: a topic's sensitive fields are its own schemas' tags plus those of every topic
routed into it (transitively), derived when read, so a tag added to a source later applies to its copies
at once and nothing has to be kept in step.

A routed copy is the source's bytes (the router does not re-encode), so the source's paths apply to the
destination as they are. A subscription counts once it was approved, also after it was revoked: the copies
it made stay in the destination.

It lives with the rows because both the pages' reads (``onboarding.selectors.classification``) and the gateway's
reconciler, which sits below the selectors and writes the masks the gateway applies on consume, derive it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from onboarding.models import ResourceStatus, Schema, SensitiveField, Subscription, Topic

# A routing chain longer than this is not followed further (a cycle is never followed twice anyway).
MAX_DEPTH = 8


@dataclass(frozen=True)
class Tag:
    side: str
    path: str
    classification: str
    source: Topic | None = None  # None: the topic's own tag; else the routed source it comes from

    @property
    def inherited(self) -> bool:
        return self.source is not None


def _routed_into(topic_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(destination id, source id) of routed subscriptions that ever delivered into ``topic_ids``."""
    delivered = Q(decision=Subscription.Decision.APPROVED) | Q(delete_requested_at__isnull=False)
    return list(Subscription.objects.filter(delivered, mode=Subscription.Mode.ROUTED, destination_id__in=topic_ids)
                .values_list("destination_id", "source_id"))


def routed_ancestors(topic_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per topic, every topic whose events were routed into it, directly or through other copies
    (one query per level of the routing chain)."""
    ancestors: dict[int, set[int]] = {pk: set() for pk in topic_ids}
    # reached[x] = the starting topics that x's tags flow into
    frontier: dict[int, set[int]] = {pk: {pk} for pk in ancestors}
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        following: dict[int, set[int]] = {}
        for destination, source in _routed_into(frontier):
            for start in frontier[destination]:
                if source != start and source not in ancestors[start]:
                    ancestors[start].add(source)
                    following.setdefault(source, set()).add(start)
        frontier = following
    return ancestors


def _tags_of(topic_ids: set[int]) -> dict[int, list[tuple[str, str, str]]]:
    rows = (SensitiveField.objects.filter(schema__topic_id__in=topic_ids)
            .exclude(schema__status=ResourceStatus.DELETED)
            .values_list("schema__topic_id", "schema__side", "path", "classification").order_by("path"))
    result: dict[int, list[tuple[str, str, str]]] = {}
    for topic_id, side, path, classification in rows:
        result.setdefault(topic_id, []).append((side, path, classification))
    return result


def classifications(topic_ids: Iterable[int]) -> dict[int, list[Tag]]:
    """Per topic, its own tags then the inherited ones (a path tagged on the topic itself keeps its own
    classification; of several sources, the first by name). A few queries whatever the number of topics."""
    ancestors = routed_ancestors(topic_ids)
    inherited_ids = set().union(*ancestors.values())
    tags = _tags_of(set(ancestors) | inherited_ids)
    sources = {t.pk: t for t in Topic.objects.filter(pk__in=inherited_ids).select_related("team")}
    result: dict[int, list[Tag]] = {}
    for topic_id, inherited_from in ancestors.items():
        own = [Tag(side, path, classification) for side, path, classification in tags.get(topic_id, [])]
        seen = {(t.side, t.path) for t in own}
        inherited = []
        for source in sorted((sources[pk] for pk in inherited_from if pk in sources), key=lambda t: t.name):
            for side, path, classification in tags.get(source.pk, []):
                if (side, path) not in seen:
                    seen.add((side, path))
                    inherited.append(Tag(side, path, classification, source))
        result[topic_id] = own + inherited
    return result


def classification_of(topic: Topic) -> list[Tag]:
    return classifications([topic.pk])[topic.pk]


def masked_paths(tags: Iterable[Tag]) -> dict[str, dict[str, str]]:
    """side -> {path: classification}, what peek masks."""
    result: dict[str, dict[str, str]] = {side: {} for side in Schema.Side.values}
    for tag in tags:
        result.setdefault(tag.side, {})[tag.path] = tag.classification
    return result
