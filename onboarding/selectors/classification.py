"""Classification follows data: a topic's sensitive fields, its own tags and those of every topic routed into
it, as the pages, the catalogue and peek read them. The derivation is ``onboarding.models.classification``,
shared with the gateway's reconciler (which may not import the selectors)."""

from onboarding.models.classification import (
    MAX_DEPTH,
    Tag,
    classification_of,
    classifications,
    masked_paths,
    routed_ancestors,
)

__all__ = ["MAX_DEPTH", "Tag", "classification_of", "classifications", "masked_paths", "routed_ancestors"]
